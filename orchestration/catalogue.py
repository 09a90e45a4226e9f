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


ANOMALY_RULES: tuple[AnomalyRule, ...] = (
    AnomalyRule(
        "hidden_complaint",
        {"window_days": 14},
        "hold",
        "note",
        False,
        ("complaint_rate", "complaint_resolution_24h"),
    ),
    AnomalyRule(
        "complaint_underreporting",
        {"min_tickets": 5, "confidence": 0.99, "max_ratio_to_peers": 0.5},
        "note",
        "note",
        False,
        ("complaint_rate", "complaint_resolution_24h"),
    ),
    AnomalyRule("inflated_self_report", {"min_gap": 1.0, "min_customers": 5}, "note", "note", False, ("csat",)),
    AnomalyRule("channel_gap", {"confidence": 0.95, "min_responses": 10}, "note", "note", False, SURVEY_INDICATORS),
    AnomalyRule("self_filled_survey", {"min_customers": 3}, "hold", "exclude_responses", True, SURVEY_INDICATORS),
    AnomalyRule(
        "speeder_burst",
        {"top_nps": 9, "speeder_share_of_median": 0.3, "min_responses": 5, "burst_minutes": 30, "confidence": 0.99},
        "hold",
        "exclude_responses",
        True,
        SURVEY_INDICATORS,
    ),
    AnomalyRule("fabricated_contact", {"window_days": 30}, "hold", "note", False, ()),
)
ANOMALY_RULE_BY_ID: dict[str, AnomalyRule] = {r.id: r for r in ANOMALY_RULES}
RULE_IDS: tuple[str, ...] = tuple(ANOMALY_RULE_BY_ID)
RESPONSE_RULES: tuple[str, ...] = tuple(r.id for r in ANOMALY_RULES if r.about_responses)
POLICY_DEFAULTS: dict[str, dict[str, str]] = {
    r.id: {"on_open": r.on_open, "on_confirm": r.on_confirm} for r in ANOMALY_RULES
}


# --- what dbt receives ---------------------------------------------------------------------------

MACRO_FILE = Path(__file__).resolve().parents[1] / "dbt_project" / "macros" / "catalogue.sql"
# the score columns of `scorecard` in its YAML, between these two lines (the rest of the file is written by hand)
SCORECARD_YML = MACRO_FILE.parents[1] / "models" / "marts" / "scorecard.yml"
SCORE_COLUMNS_BEGIN = "      # <indicator>_score columns: generated by `make catalogue`, do not edit"
SCORE_COLUMNS_END = "      # end of the generated <indicator>_score columns"


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
    ]
    head = (
        "{#- Generated from orchestration/catalogue.py by `python -m orchestration.catalogue --write`\n"
        "    (`make catalogue`); do not edit: edit the catalogue and regenerate. -#}\n"
    )
    return head + "\n" + "\n".join(macros)


def score_columns_yml() -> str:
    """The YAML of `scorecard`'s score columns (one per indicator, in catalogue order), with the markers
    around them: their description and contract data type (DECIMAL(38,10), as int_score_subjects computes them)."""
    unit_words = {"%": "a rate in %", "points": "points, -100..100", "count": "a count", "h": "hours"}
    lines = [SCORE_COLUMNS_BEGIN]
    for i in INDICATORS:
        better = "higher" if i.direction == "higher" else "lower"
        hidden = (
            " or not published (a survey figure hidden by the small-sample rule or complementary suppression)"
            if i.survey
            else ""
        )
        text = (
            f"Score of {i.label_en} ({i.id}: {i.group}, {unit_words[i.unit]}, {better} is better) by the method of "
            f"the subject's scheme; NULL when the figure is insufficient{hidden}. The value, weight and amount "
            "behind it: marts.indicator_values and marts.score_statement."
        )
        lines += [f"      - name: {i.id}_score", f'        description: "{text}"', "        data_type: decimal(38,10)"]
    return "\n".join([*lines, SCORE_COLUMNS_END]) + "\n"


def scorecard_yml(current: str) -> str:
    """scorecard.yml with its generated block replaced by `score_columns_yml()`."""
    head, begin, rest = current.partition(SCORE_COLUMNS_BEGIN + "\n")
    _, end, tail = rest.partition(SCORE_COLUMNS_END + "\n")
    if not begin or not end:
        raise ValueError(f"{SCORECARD_YML}: the lines around the generated score columns are missing")
    return head + score_columns_yml() + tail


def generated_files() -> dict[Path, str]:
    """Each file generated from the catalogue -> the text it must hold."""
    current = SCORECARD_YML.read_text(encoding="utf-8")
    return {MACRO_FILE: dbt_macros(), SCORECARD_YML: scorecard_yml(current)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m orchestration.catalogue", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--write", action="store_true", help=f"write {MACRO_FILE.name} and the score columns of {SCORECARD_YML.name}"
    )
    parser.add_argument("--check", action="store_true", help="exit 1 when a committed file is out of date")
    args = parser.parse_args(argv)
    if args.write:
        for path, text in generated_files().items():
            path.write_text(text, encoding="utf-8")
    elif args.check:
        stale = [p for p, text in generated_files().items() if p.read_text(encoding="utf-8") != text]
        for path in stale:
            print(f"{path} is out of date: run `make catalogue`", file=sys.stderr)
        return 1 if stale else 0
    else:
        sys.stdout.write(dbt_macros())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
