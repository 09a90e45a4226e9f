"""The shared facts of the scorecard, written once: the indicator catalogue, the published marts and the
anomaly rules with their settings and review policy (SCORING.md "Indicator catalogue", "Analysis
marts", "Anomaly rules", "From flag to decision").

Python imports this module. dbt receives the same facts as a generated macro file,
`dbt_project/macros/catalogue.sql`, rendered from this module by `python -m orchestration.catalogue
--write` (`make catalogue`) and committed; tests/unit/test_catalogue.py fails when the committed file
differs from the text `dbt_macros()` renders, so an edit here without regenerating is caught.

Why a generated macro file rather than vars or a cfg table: dbt needs these facts at compile time.
`scorecard` has one score column per indicator (a Jinja loop over `indicator_catalogue()`), the anomaly
models read their settings' defaults while they are compiled, and `int_anomaly_policy` unrolls the rule
list; a cfg table is only seen when the SQL runs, and vars would have to be passed by every caller of
dbt (the run, the tests, `dbt compile` by hand), each a chance to pass another list. A macro file is
part of the project: `dbt parse` and every `dbt build` see the same catalogue without being told.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

Unit = Literal["%", "points", "count", "h"]
Direction = Literal["higher", "lower"]


@dataclass(frozen=True)
class Indicator:
    id: str
    group: str  # SCORING.md group: performance, customer_feedback, process_quality, relationship
    unit: Unit  # %: a rate 0..100; points: NPS, -100..100; count; h: hours
    direction: Direction  # which way is better
    survey: bool  # computed from survey answers: the anonymity threshold survey.anonymity_k applies
    label_en: str
    label_zh: str  # zh-CN

    def label(self, language: str = "en") -> str:
        return self.label_zh if language == "zh-CN" else self.label_en


INDICATORS: tuple[Indicator, ...] = (
    Indicator("sales_attainment", "performance", "%", "higher", False, "Sales attainment", "销售目标达成率"),
    Indicator("collection_rate", "performance", "%", "higher", False, "Collection rate", "回款率"),
    Indicator("new_customers", "performance", "count", "higher", False, "New customers", "新增客户数"),
    Indicator("nps", "customer_feedback", "points", "higher", True, "NPS", "净推荐值"),
    Indicator("csat", "customer_feedback", "%", "higher", True, "Customer satisfaction", "客户满意度"),
    Indicator("complaint_rate", "customer_feedback", "%", "lower", False, "Complaint rate", "投诉率"),
    Indicator(
        "complaint_resolution_24h",
        "customer_feedback",
        "%",
        "higher",
        False,
        "Complaints resolved within 24 h",
        "24小时投诉解决率",
    ),
    Indicator("repeat_purchase_rate", "customer_feedback", "%", "higher", False, "Repeat purchase rate", "复购率"),
    Indicator("key_account_nps", "customer_feedback", "points", "higher", True, "Key-account NPS", "重点客户净推荐值"),
    Indicator("response_sla_rate", "process_quality", "%", "higher", False, "Response within SLA", "响应及时率"),
    Indicator(
        "median_response_hours", "process_quality", "h", "lower", False, "Median response time", "响应时长中位数"
    ),
    Indicator(
        "requirement_accuracy", "process_quality", "%", "higher", False, "Requirement accuracy", "需求把握准确率"
    ),
    Indicator("followup_completion", "relationship", "%", "higher", False, "Follow-up completion", "回访完成率"),
    Indicator("referral_rate", "relationship", "%", "higher", False, "Referral rate", "转介绍率"),
)
INDICATOR_BY_ID: dict[str, Indicator] = {i.id: i for i in INDICATORS}
# views of the catalogue, in catalogue order
INDICATOR_IDS: tuple[str, ...] = tuple(INDICATOR_BY_ID)
INDICATOR_GROUPS: dict[str, str] = {i.id: i.group for i in INDICATORS}
UNITS: dict[str, Unit] = {i.id: i.unit for i in INDICATORS}
LOWER_IS_BETTER: tuple[str, ...] = tuple(i.id for i in INDICATORS if i.direction == "lower")
SURVEY_INDICATORS: tuple[str, ...] = tuple(i.id for i in INDICATORS if i.survey)

# The published marts (schema marts): what a run publishes, the report reads and the engines compare.
MARTS: tuple[str, ...] = (
    "indicator_values",
    "scorecard",
    "score_statement",
    "anomaly_flags",
    "team_shortfalls",
    "rep_feedback",
    "complaint_pareto",
    "improvement_tracking",
    "sales_breakdown",
)


@dataclass(frozen=True)
class AnomalyRule:
    id: str
    settings: dict[str, int | float]  # setting -> documented default (docs/anomalies.md), `anomalies.<rule>`
    on_open: Literal["hold", "note"]  # default review policy, `anomalies.policy.<rule>`
    on_confirm: Literal["exclude_responses", "penalty", "note"]
    about_responses: bool  # its flags are about given survey responses (which exclude_responses removes)
    # The indicators whose figures a flag of the rule is about (docs/anomalies.md "Reviews"): rep_feedback
    # names none of them as a strength of the rep while such a flag is open or confirmed. The survey rules
    # are about the survey figures; inflated_self_report compares claims with csat; the complaint rules are
    # about the complaint figures; fabricated_contact is about self-reports, which feed no indicator.
    indicators: tuple[str, ...]
    label_en: str  # the rule's name in the reports
    label_zh: str  # zh-CN

    def label(self, language: str = "en") -> str:
        return self.label_zh if language == "zh-CN" else self.label_en


ANOMALY_RULES: tuple[AnomalyRule, ...] = (
    AnomalyRule(
        "hidden_complaint",
        {"window_days": 14},
        "hold",
        "note",
        False,
        ("complaint_rate", "complaint_resolution_24h"),
        "Hidden complaint",
        "隐瞒投诉",
    ),
    AnomalyRule(
        "complaint_underreporting",
        {"min_tickets": 5, "confidence": 0.99, "max_ratio_to_peers": 0.5},
        "note",
        "note",
        False,
        ("complaint_rate", "complaint_resolution_24h"),
        "Complaint under-reporting",
        "投诉少报",
    ),
    AnomalyRule(
        "inflated_self_report",
        {"min_gap": 1.0, "min_customers": 5},
        "note",
        "note",
        False,
        ("csat",),
        "Inflated self-report",
        "自报满意度虚高",
    ),
    AnomalyRule(
        "channel_gap",
        {"confidence": 0.95, "min_responses": 10},
        "note",
        "note",
        False,
        SURVEY_INDICATORS,
        "Survey channel gap",
        "问卷渠道差异",
    ),
    AnomalyRule(
        "self_filled_survey",
        {"min_customers": 3},
        "hold",
        "exclude_responses",
        True,
        SURVEY_INDICATORS,
        "Self-filled survey",
        "代填问卷",
    ),
    AnomalyRule(
        "speeder_burst",
        {"top_nps": 9, "speeder_share_of_median": 0.3, "min_responses": 5, "burst_minutes": 30, "confidence": 0.99},
        "hold",
        "exclude_responses",
        True,
        SURVEY_INDICATORS,
        "Speeder burst",
        "异常快速集中作答",
    ),
    AnomalyRule(
        "fabricated_contact", {"window_days": 30}, "hold", "note", False, (), "Fabricated contact", "虚构客户接触"
    ),
)
ANOMALY_RULE_BY_ID: dict[str, AnomalyRule] = {r.id: r for r in ANOMALY_RULES}
RULE_IDS: tuple[str, ...] = tuple(ANOMALY_RULE_BY_ID)
RESPONSE_RULES: tuple[str, ...] = tuple(r.id for r in ANOMALY_RULES if r.about_responses)
POLICY_DEFAULTS: dict[str, dict[str, str]] = {
    r.id: {"on_open": r.on_open, "on_confirm": r.on_confirm} for r in ANOMALY_RULES
}


# --- what readers see: labels and sentences in the report language (SCORING.md "Reports") -----------
# Ids stay ids in id columns; every label, grade, stage and sentence a reader sees is looked up here.
# `report.language` of the scheme file picks the language; English is the default.

LANGUAGES: tuple[str, ...] = ("en", "zh-CN")

# Known ids of the other kinds, (English, Chinese). Grade labels are the scheme's own ids: the common ones
# are here, and a scheme may give any band its names (`grades: - {label: gold, name_en: Gold, name_zh: 金}`,
# orchestration/scheme/model.py); an id found nowhere is shown as it is.
GRADE_LABELS: dict[str, tuple[str, str]] = {
    "excellent": ("Excellent", "优秀"),
    "good": ("Good", "良好"),
    "satisfactory": ("Satisfactory", "合格"),
    "fair": ("Fair", "一般"),
    "needs_improvement": ("Needs improvement", "待改进"),
    "poor": ("Poor", "较差"),
    "insufficient_data": ("Insufficient data", "数据不足"),
}
STAGE_LABELS: dict[str, tuple[str, str]] = {  # business_stage, the name of a team's scheme
    "mature": ("Mature business", "成熟业务"),
    "new_business": ("New business", "新业务"),
}
LEVEL_LABELS: dict[str, tuple[str, str]] = {
    "rep": ("rep", "销售代表"),
    "team": ("team", "团队"),
    "company": ("company", "公司"),
    "region": ("region", "区域"),
    "cell": ("cell", "细分"),
}
REVIEW_STATUS_LABELS: dict[str, tuple[str, str]] = {  # anomaly_flags.review_status, scorecard.grade_status
    "open": ("open", "待审核"),
    "confirmed": ("confirmed", "已确认"),
    "dismissed": ("dismissed", "已驳回"),
    "held": ("held", "暂缓"),
    "final": ("final", "最终"),
}
POLICY_LABELS: dict[str, tuple[str, str]] = {  # anomalies.policy on_open / on_confirm
    "hold": ("hold the grade", "暂缓评级"),
    "note": ("note", "仅记录"),
    "exclude_responses": ("exclude the responses", "剔除问卷答复"),
    "penalty": ("penalty points", "扣分"),
}
DISCLOSURE_LABELS: dict[str, tuple[str, str]] = {  # indicator_values.disclosure
    "published": ("published", "公开"),
    "small_sample": ("small sample", "样本过小"),
    "complementary": ("complementary", "连带隐藏"),
}
FEEDBACK_TYPE_LABELS: dict[str, tuple[str, str]] = {  # rep_feedback.feedback_type
    "strength": ("strength", "优势"),
    "improvement": ("improvement point", "待改进项"),
}
# The unit written after a value and after a difference (a gap between two % rates is in percentage points).
VALUE_UNITS: dict[str, dict[str, str]] = {
    "en": {"%": " %", "points": " points", "h": " h", "count": ""},
    "zh-CN": {"%": "%", "points": "分", "h": "小时", "count": ""},
}
GAP_UNITS: dict[str, dict[str, str]] = {
    "en": {"%": " points", "points": " points", "h": " h", "count": ""},
    "zh-CN": {"%": "个百分点", "points": "分", "h": "小时", "count": ""},
}
# Generated sentences of the marts, per language: `{name}` is a figure the model fills in (rendered into
# SQL by macros/report_text.sql; Python renders the same text with str.format in tests).
#   indicator: the indicator's label; value, median, gap: numbers with 1 decimal; unit, gap_unit: above;
#   rank: 1, 2, ...; rank_ordinal: 1st, 2nd, ...; reps: reps ranked; side: below / above (the side of
#   the median the rep is on, the worse one); sample: a sample size; composite: counted / left out.
SENTENCES: dict[str, dict[str, str]] = {
    "en": {
        "feedback_strength": "{indicator}: {rank_ordinal} of {reps} in team "
        "({value}{unit}; team median {median}{unit})",
        "feedback_improvement": "{indicator}: {value}{unit} against a team median of {median}{unit}, "
        "{gap}{gap_unit} {side} ({rank_ordinal} of {reps} in team)",
        "side_below": "below",
        "side_above": "above",
    },
    "zh-CN": {
        "feedback_strength": "{indicator}：团队内第{rank}名，共{reps}人（{value}{unit}；团队中位数{median}{unit}）",
        "feedback_improvement": "{indicator}：{value}{unit}，团队中位数{median}{unit}，{side}中位数{gap}{gap_unit}"
        "（团队内第{rank}名，共{reps}人）",
        "side_below": "低于",
        "side_above": "高于",
    },
}


def _pick(pair: tuple[str, str], language: str) -> str:
    return pair[1] if language == "zh-CN" else pair[0]


def indicator_label(indicator: str, language: str = "en") -> str:
    found = INDICATOR_BY_ID.get(indicator)
    return found.label(language) if found else indicator


def rule_label(rule: str, language: str = "en") -> str:
    found = ANOMALY_RULE_BY_ID.get(rule)
    return found.label(language) if found else rule


def grade_label(grade: str | None, language: str = "en", names: dict[str, dict[str, str]] | None = None) -> str:
    """A grade's name: the scheme's own (`names`: label -> {language: name}), else the catalogue's, else
    the id itself."""
    if grade is None:
        return "—"
    own = (names or {}).get(grade, {}).get(language)
    if own:
        return own
    return _pick(GRADE_LABELS[grade], language) if grade in GRADE_LABELS else grade


def id_label(kind: dict[str, tuple[str, str]], value: str | None, language: str = "en") -> str:
    """The label of a stage, level, review status, policy, disclosure or feedback type (the id when unknown)."""
    if value is None:
        return "—"
    return _pick(kind[value], language) if value in kind else value


# --- what dbt receives ---------------------------------------------------------------------------

MACRO_FILE = Path(__file__).resolve().parents[1] / "dbt_project" / "macros" / "catalogue.sql"


def _jinja(value: Any) -> str:
    """A Python value as a Jinja literal (str, int, float, list/tuple, dict)."""
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, bool) or value is None:
        raise TypeError(f"no Jinja literal for {value!r}")
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_jinja(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_jinja(k)}: {_jinja(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"no Jinja literal for {value!r}")


def _macro(name: str, doc: str, value: Any) -> str:
    if isinstance(value, dict) and value:
        body = "{\n" + "".join(f"        {_jinja(k)}: {_jinja(v)},\n" for k, v in value.items()) + "    }"
    elif isinstance(value, (list, tuple)) and len(_jinja(value)) > 80:
        body = "[\n" + "".join(f"        {_jinja(v)},\n" for v in value) + "    ]"
    else:
        body = _jinja(value)
    return f"{{#- {doc} -#}}\n{{% macro {name}() -%}}\n    {{{{ return({body}) }}}}\n{{%- endmacro %}}\n"


def dbt_macros() -> str:
    """The text of dbt_project/macros/catalogue.sql."""
    macros = [
        _macro(
            "indicator_catalogue",
            "The indicator catalogue (SCORING.md), in catalogue order: one score column per entry in `scorecard`.",
            INDICATOR_IDS,
        ),
        _macro("indicator_units", "indicator -> unit: '%', 'points' (-100..100), 'count' or 'h'.", UNITS),
        _macro(
            "survey_indicators",
            "Survey-based indicators: masked at rep level when insufficient (anonymity of answers).",
            SURVEY_INDICATORS,
        ),
        _macro("lower_is_better_indicators", "Indicators where a lower value is better.", LOWER_IS_BETTER),
        _macro(
            "anomaly_rules",
            "The anomaly rules: rule -> {setting: documented default} (macros/anomaly_settings.sql).",
            {r.id: r.settings for r in ANOMALY_RULES},
        ),
        _macro(
            "anomaly_rule_indicators",
            "rule -> the indicators whose figures a flag of the rule is about (macros/flag_reviews.sql).",
            {r.id: r.indicators for r in ANOMALY_RULES},
        ),
        _macro(
            "indicator_labels",
            "language -> indicator -> its label (the report language, macros/report_text.sql).",
            {lang: {i.id: i.label(lang) for i in INDICATORS} for lang in LANGUAGES},
        ),
        _macro(
            "report_units",
            "language -> {value: unit -> text after a value, gap: unit -> text after a difference}.",
            {lang: {"value": VALUE_UNITS[lang], "gap": GAP_UNITS[lang]} for lang in LANGUAGES},
        ),
        _macro(
            "report_sentences",
            "language -> the generated sentences of the marts, `{name}` filled in by macros/report_text.sql.",
            SENTENCES,
        ),
    ]
    head = (
        "{#- Generated from orchestration/catalogue.py by `python -m orchestration.catalogue --write`\n"
        "    (`make catalogue`); do not edit: edit the catalogue and regenerate. -#}\n"
    )
    return head + "\n" + "\n".join(macros)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m orchestration.catalogue", description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help=f"write {MACRO_FILE.name} (default: print it)")
    parser.add_argument("--check", action="store_true", help="exit 1 when the committed file is out of date")
    args = parser.parse_args(argv)
    text = dbt_macros()
    if args.write:
        MACRO_FILE.write_text(text, encoding="utf-8")
    elif args.check:
        current = MACRO_FILE.read_text(encoding="utf-8") if MACRO_FILE.exists() else ""
        if current != text:
            print(f"{MACRO_FILE} is out of date: run `make catalogue`", file=sys.stderr)
            return 1
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
