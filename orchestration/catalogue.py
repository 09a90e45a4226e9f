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
        # anomaly_flags.evidence, per rule (models/intermediate/anomalies/int_anomaly_<rule>.sql)
        "evidence_channel_gap": "rep {rep} rep-distributed NPS {rd_nps} (n={rd_n}) vs third-party NPS {tp_nps} "
        "(n={tp_n}), one-sided z={z}, p{p} < {alpha}",
        "evidence_complaint_underreporting": "rep {rep} self-reported {reported} complaint(s) in {period} against "
        "{tickets} complaint tickets of customers of the rep (ratio {rep_ratio}), while peers reported {peer_ratio} "
        "per ticket ({peer_reported} of {peer_tickets}): expected {expected}, one-sided Poisson p{p} < {alpha}",
        "evidence_inflated_self_report": "rep {rep} mean claimed satisfaction {claimed} vs mean third-party csat "
        "{csat} over the {customers} customers who answered both in {period}: gap {gap} >= {min_gap} point(s) "
        "(at least {min_customers} customers)",
        "evidence_self_filled_survey": "response {response} (customer {customer}, {channel}, NPS {nps}) came from "
        "fingerprint {fingerprint}{device}{rep}; that fingerprint answered for {customers} different customer(s) "
        "of the rep ({customer_list}{more}; flagged from {min_customers} customers or a device match)",
        "device_of_rep": ", a registered device of rep ",
        "device_not_of_rep": ", not a device of rep ",
        "unknown_customer_id": "unknown",
        "evidence_fabricated_contact": "rep {rep} self-reported {contacts} contact(s) with customer {customer}{when} "
        "with no open deal and no closed deal, interaction, proposal or follow-up with that customer within "
        "{window} days; customer owner: {owner}; other activity of the rep with the customer: {other}",
        "contact_on": " on {date}",
        "contact_between": " between {first} and {last}",
        "unknown_customer": "unknown customer",
        "activity_outside_window": "only outside the window",
        "activity_none": "none at all",
        "evidence_hidden_complaint": "rep {rep} logged {kind}{claim} for customer {customer} on {contact_on}, "
        "{timing} complaint ticket {ticket} opened on {opened_on}{owner_note}; {positive_records} positive "
        "record(s) within {window} days of {tickets} complaint ticket(s), {not_logged} of them without a "
        "complaint record by the rep",
        "kind_praise": "praise",
        "kind_neutral": "neutral",
        "kind_suggestion": "suggestion",
        "no_claim": " (no claimed satisfaction)",
        "claim": " (claimed satisfaction {claimed})",
        "timing_same_day": "the day",
        "timing_after": "{days} day(s) after",
        "timing_before": "{days} day(s) before",
        "attributed_to_owner": " (no rep on the ticket: attributed to the owner)",
        "evidence_speeder_burst": "rep {rep} in {period}: {speed}{separator}{burst}; x {reps} reps compared in "
        "the period (Bonferroni): p{p} < {alpha}",
        "speeders": "{speeders} top-score responses (NPS >= {top_nps}) faster than {share} x the median duration "
        "of their channel, of {timed} timed top-score responses; the peer share {peer_share}% gives {expected} "
        "expected, one-sided Poisson p{p}",
        "burst": "{size} top-score responses within {minutes} minutes ({start} to {end} local) of {top} top scores "
        "in the period ({expected} expected per {window}-minute window), scan p{p}",
        "separator": "; ",
        # score_statement.explanation (int_analysis_score_steps.sql, score_statement.sql); in English the
        # statement names indicators, grades and rules by id: it is the trace of a grade
        "step_indicator": "{indicator} = {value}{unit} (sample {sample}) -> score {score} by {method}, x weight "
        "{weight} = {amount}",
        "step_no_target": "{indicator}: no sales target in the period: left out of the composite (weight {weight} "
        "not covered)",
        "step_no_events": "{indicator}: no events in the period: left out of the composite (weight {weight} not "
        "covered)",
        "step_thin": "{indicator}: sample {sample} below the minimum {min_sample}: left out of the composite (weight "
        "{weight} not covered)",
        "step_weighted_sum": "sum of weight x score over the {n} counted indicators = {sum}",
        "step_coverage": "sum of their weights = {coverage} (minimum {minimum})",
        "step_no_composite": "no counted indicator: no composite",
        "step_composite": "weighted_sum / coverage = {composite}",
        "step_progress_no_composite": "no composite: no progress points",
        "step_progress_no_previous": "no previous composite: 0 progress points",
        "step_progress": "composite {composite} against {previous} in {previous_period}: change {change} -> {points} "
        "progress points ({per} per full {step} points risen, at most {max}, never negative)",
        "step_adjustment": "manager adjustments {raw}{relation}{points} points (at most +-{max})",
        "adjustment_clamped": " clamped to ",
        "adjustment_equal": " = ",
        "step_not_graded": "coverage below the minimum: not graded",
        "step_final": "round(composite + progress + adjustment{penalties} = {total}, 2), half-up = {final}",
        "minus_penalties": " - penalties",
        "step_grade_lowest": "{grade}: the lowest band",
        "step_grade": "{grade}: final score {final} reaches its minimum {minimum}",
        "step_bonus_not_graded": "no bonus coefficient when not graded",
        "step_bonus_held": "grade held: no bonus coefficient until every holding flag is decided",
        "step_bonus": "bonus coefficient of band {grade}: {bonus}",
        "no_bonus": "none",
        "step_penalty": "confirmed {rule} {flag}: -{points} points (outside the adjustment cap)",
        "step_excluded": "confirmed {rule} {flag}: {n} survey response(s) of rep {rep} excluded from nps, csat and "
        "key_account_nps",
        "step_held": "grade held: {n} open flag(s) awaiting review ({flags}{more}); no bonus coefficient until every "
        "one is decided",
        "step_hidden_small": "{indicator}: hidden (anonymous survey, {sample} answers, fewer than {k}): left out "
        "of the composite",
        "step_hidden_complementary": "{indicator}: hidden so that another subject's small survey sample cannot be "
        "worked out; left out of the composite",
    },
    "zh-CN": {
        "feedback_strength": "{indicator}：团队内第{rank}名，共{reps}人（{value}{unit}；团队中位数{median}{unit}）",
        "feedback_improvement": "{indicator}：{value}{unit}，团队中位数{median}{unit}，{side}中位数{gap}{gap_unit}"
        "（团队内第{rank}名，共{reps}人）",
        "side_below": "低于",
        "side_above": "高于",
        "evidence_channel_gap": "销售代表 {rep} 自发问卷的净推荐值 {rd_nps}（n={rd_n}），第三方问卷的净推荐值 {tp_nps}"
        "（n={tp_n}），单侧检验 z={z}，p{p} < {alpha}",
        "evidence_complaint_underreporting": "销售代表 {rep} 在 {period} 自报投诉 {reported} 次，而其客户的投诉工单有 "
        "{tickets} 张（比例 {rep_ratio}）；同事每张工单自报 {peer_ratio} 次（{peer_tickets} 张中 {peer_reported} 次）："
        "预期 {expected} 次，单侧泊松检验 p{p} < {alpha}",
        "evidence_inflated_self_report": "销售代表 {rep} 自报满意度均值 {claimed}，而 {period} 两边都有评价的 "
        "{customers} 位客户的第三方满意度均值为 {csat}：差距 {gap} >= {min_gap} 分（至少 {min_customers} 位客户）",
        "evidence_self_filled_survey": "问卷答复 {response}（客户 {customer}，{channel}，净推荐值打分 {nps}）"
        "来自设备指纹 {fingerprint}{device}{rep}；该指纹为该销售代表的 {customers} 位不同客户作答"
        "（{customer_list}{more}；达到 {min_customers} 位客户或与设备匹配即标记）",
        "device_of_rep": "，是销售代表登记的设备：",
        "device_not_of_rep": "，不是该销售代表的设备：",
        "unknown_customer_id": "未知",
        "evidence_fabricated_contact": "销售代表 {rep} 自报与客户 {customer} 接触 {contacts} 次{when}，但 {window} "
        "天内与该客户既无进行中的商机，也无成交、互动、方案或回访记录；客户负责人：{owner}；"
        "该销售代表与该客户的其他往来：{other}",
        "contact_on": "（{date}）",
        "contact_between": "（{first} 至 {last}）",
        "unknown_customer": "未知客户",
        "activity_outside_window": "仅在时间窗口之外",
        "activity_none": "完全没有",
        "evidence_hidden_complaint": "销售代表 {rep} 于 {contact_on} 为客户 {customer} 记录了{kind}{claim}，"
        "在投诉工单 {ticket}（{opened_on} 提交）{timing}{owner_note}；{window} 天内有 {positive_records} 条正面记录、"
        "{tickets} 张投诉工单，其中 {not_logged} 张该销售代表没有记录投诉",
        "kind_praise": "表扬",
        "kind_neutral": "中性反馈",
        "kind_suggestion": "建议",
        "no_claim": "（未填满意度）",
        "claim": "（自报满意度 {claimed}）",
        "timing_same_day": "当天",
        "timing_after": "之后 {days} 天",
        "timing_before": "之前 {days} 天",
        "attributed_to_owner": "（工单未填销售代表：归属客户负责人）",
        "evidence_speeder_burst": "销售代表 {rep} 在 {period}：{speed}{separator}{burst}；共比较 {reps} 位销售代表"
        "（Bonferroni 校正）：p{p} < {alpha}",
        "speeders": "{speeders} 份高分答复（NPS >= {top_nps}）用时短于其渠道中位用时的 {share} 倍"
        "（共 {timed} 份计时的高分答复）；按同事比例 {peer_share}% 预期 {expected} 份，单侧泊松检验 p{p}",
        "burst": "{minutes} 分钟内有 {size} 份高分答复（当地时间 {start} 至 {end}），本期共 {top} 份高分答复"
        "（每 {window} 分钟窗口预期 {expected} 份），扫描统计检验 p{p}",
        "separator": "；",
        "step_indicator": "{indicator} = {value}{unit}（样本 {sample}）-> 按 {method} 计分 {score}，"
        "× 权重 {weight} = {amount}",
        "step_no_target": "{indicator}：本考核期没有销售目标：不计入综合得分（权重 {weight} 未覆盖）",
        "step_no_events": "{indicator}：本考核期没有相关事件：不计入综合得分（权重 {weight} 未覆盖）",
        "step_thin": "{indicator}：样本 {sample} 低于最低要求 {min_sample}：不计入综合得分（权重 {weight} 未覆盖）",
        "step_weighted_sum": "{n} 项计入指标的权重 × 得分之和 = {sum}",
        "step_coverage": "其权重之和 = {coverage}（最低要求 {minimum}）",
        "step_no_composite": "没有计入的指标：无综合得分",
        "step_composite": "加权和 / 覆盖率 = {composite}",
        "step_progress_no_composite": "无综合得分：无进步分",
        "step_progress_no_previous": "无上期综合得分：进步分为 0",
        "step_progress": "综合得分 {composite}，{previous_period} 为 {previous}：变化 {change} -> 进步分 {points}"
        "（每提高 {step} 分得 {per} 分，最多 {max} 分，不为负）",
        "step_adjustment": "经理调整 {raw}{relation}{points} 分（最多 +-{max}）",
        "adjustment_clamped": " 截断为 ",
        "adjustment_equal": " = ",
        "step_not_graded": "覆盖率低于最低要求：不评级",
        "step_final": "round(综合得分 + 进步分 + 调整分{penalties} = {total}, 2)，四舍五入 = {final}",
        "minus_penalties": " - 扣分",
        "step_grade_lowest": "{grade}：最低档",
        "step_grade": "{grade}：最终得分 {final} 达到该档下限 {minimum}",
        "step_bonus_not_graded": "未评级：无奖金系数",
        "step_bonus_held": "评级暂缓：所有暂缓标记审核完成前无奖金系数",
        "step_bonus": "{grade} 档的奖金系数：{bonus}",
        "no_bonus": "无",
        "step_penalty": "已确认 {rule} {flag}：-{points} 分（不受调整上限限制）",
        "step_excluded": "已确认 {rule} {flag}：销售代表 {rep} 的 {n} 份问卷答复已从净推荐值、客户满意度和"
        "重点客户净推荐值中剔除",
        "step_held": "评级暂缓：{n} 个标记待审核（{flags}{more}）；全部审核完成前无奖金系数",
        "step_hidden_small": "{indicator}：已隐藏（匿名问卷，{sample} 份答复，少于 {k} 份）：不计入综合得分",
        "step_hidden_complementary": "{indicator}：已隐藏，以免推算出其他对象的小样本问卷数据；不计入综合得分",
    },
}


# The reports' own text in zh-CN, keyed by its English wording (the text the templates and report modules
# write: `_("...")`, `{% trans %}` blocks, `ui_text("...")`; orchestration/report/language.py). A text
# missing here is shown in English: tests/unit/test_report_language.py lists every text of the directors'
# report and fails on one without a translation.
UI_TEXT: dict[str, str] = {
    # the directors' report: headings, cards and table heads
    "Sales scorecard": "销售计分卡",
    "directors and HR": "管理层与人力资源",
    "Sales scorecard %(period)s: grades, strengths and gaps": "销售计分卡 %(period)s：评级、优势与差距",
    "Period %(period)s (%(grain)s) · data as of %(as_of)s "
    "· report generated %(generated)s": "考核期 %(period)s（%(grain)s）· 数据截至 %(as_of)s · 报告生成于 %(generated)s",
    "Periods:": "考核期：",
    "month": "月度",
    "quarter": "季度",
    "year": "年度",
    "Grade distribution": "评级分布",
    "Teams per indicator": "各团队指标对比",
    "NPS per team": "各团队净推荐值",
    "Complaint Pareto": "投诉帕累托分析",
    "Top shortfalls": "主要短板",
    "Improvement actions": "整改措施",
    "Sales against target": "销售目标完成情况",
    "Reps: strengths and improvement points": "销售代表：优势与待改进项",
    "Flags under review": "待审核的异常标记",
    "Weight what-if": "权重假设分析",
    "Small samples": "小样本保护",
    "reps graded": "已评级销售代表",
    "teams": "团队数",
    "total bonus coefficient (reps)": "奖金系数合计（销售代表）",
    "company NPS": "公司净推荐值",
    "complaint tickets": "投诉工单",
    "hidden survey cells": "隐藏的问卷数据格",
    "grades held for review": "暂缓待审的评级",
    "survey answers removed (confirmed flags)": "已剔除的问卷答复（已确认标记）",
    "<strong>Reading the scores.</strong> A final score "
    "is the weighted sum of the indicator scores, plus "
    "progress points (for a composite that rose over the "
    "previous period), plus the managers' adjustments, "
    "minus the penalties of confirmed flags. It can pass "
    "100: an indicator scored by its own value may go above "
    "100 up to its cap (sales above target), and progress "
    "points and adjustments come on top. The <em>total "
    "bonus coefficient</em> card adds up the bonus coefficients "
    "of the reps' grades in this period; a grade held for "
    "review adds nothing until its flags are decided, and "
    "a rep without enough data adds nothing.": "<strong>如何解读得分。</strong>最"
    "终得分 = 各指标得分的加权和，加上进步"
    "分（综合得分较上一考核期提高时），加上经"
    "理调整分，再减去已确认标记的扣分。最终得"
    "分可以超过100：按指标数值计分的指标最"
    "高可超过100直至其上限（如销售超额完成"
    "），进步分和调整分另行累加。<em>奖金"
    "系数合计</em>卡片为本考核期各销售代"
    "表评级对应的奖金系数之和；暂缓待审的评级"
    "在其标记审核完成前不计入，数据不足的销售"
    "代表也不计入。",
    "Reps per grade in each team (T01…) and for all reps.": "各团队（T01…）及全体销售代表的各评级人数。",
    "team": "团队",
    "name": "名称",
    "reps": "人数",
    "all": "全部",
    "all reps": "全体销售代表",
    "Team grades": "团队评级",
    "stage": "业务阶段",
    "final score": "最终得分",
    "grade": "评级",
    "bonus coeff.": "奖金系数",
    "rank": "排名",
    "Green: better than the company, red: worse (relative "
    "difference, lower is better for the complaint rate "
    "and the median response time, capped at ±30 %). Grey: "
    "no value or hidden.": "绿色：优于公司整体；红色：差于公司整体（"
    "相对差异，投诉率和响应时长中位数越低越好"
    "，上下限 ±30%）。灰色：无数据或已隐"
    "藏。",
    "indicator": "指标",
    "unit": "单位",
    "%": "%",
    "points": "分",
    "count": "个",
    "h": "小时",
    "company": "公司",
    "lower is better": "越低越好",
    "%(n)s per team": "每个团队 %(n)s",
    "hidden": "已隐藏",
    "sample %(n)s below the minimum": "样本量 %(n)s 低于最低要求",
    "* sample below the indicator's minimum: shown, but "
    "left out of the grade. Values are unrounded in the "
    "warehouse (marts.indicator_values) and rounded to "
    "one decimal here.": "* 样本量低于该指标的最低要求：予以显示"
    "，但不计入评级。数据仓库（marts.indicator_values）"
    "中的数值未经舍入，此处保留一位小数。",
    "Team NPS (promoters minus detractors over responses) "
    "with its 95 % interval; the band is the company's.": "团队净推荐值（推荐者减去贬损者，除以答复"
    "数）及其95%置信区间；色带为公司整体的"
    "区间。",
    "No team NPS published for this period.": "本考核期没有公开的团队净推荐值。",
    "95 % interval": "95%置信区间",
    "responses": "答复数",
    "hidden (small-sample protection)": "已隐藏（小样本保护）",
    "no responses": "无答复",
    "Complaint tickets opened in the period by category, "
    "largest first; the vital few are the categories up "
    "to the one at which the cumulative share reaches 80 "
    "%.": "本考核期内新开投诉工单按类别统计，由多到少排列；“关键少数”是累计占比达到80%为止的各类别。",
    "No complaint tickets in this period.": "本考核期没有投诉工单。",
    "category": "类别",
    "complaints": "投诉数",
    "share": "占比",
    "cumulative": "累计占比",
    "vital few": "关键少数",
    "yes": "是",
    "no": "否",
    "Vital few per team": "各团队的关键少数",
    "vital few categories": "关键少数类别",
    "their complaints": "其投诉数",
    "Top shortfalls per team": "各团队主要短板",
    "Each team's three worst indicators against the company "
    "(worst first: the largest gap relative to the company "
    "value). Rank among the teams: 1 = best. Weight: the "
    "indicator's weight in the team's grade.": "每个团队相对公司整体最差的三项指标（按相"
    "对公司数值的差距由大到小排列）。团队间排"
    "名：1 = 最好。权重：该指标在团队评级"
    "中的权重。",
    "gap": "差距",
    "relative gap": "相对差距",
    "weight": "权重",
    "per team": "每个团队",
    "%(rank)s of %(n)s": "第%(rank)s名，共%(n)s个",
    "No team is below the company on any indicator.": "没有团队在任何指标上低于公司整体。",
    "Improvement actions on complaints": "投诉整改措施",
    "Action taken: of the complaints; completed and overdue: "
    "of the complaints with an action; confirmed: of the "
    "completed ones.": "已采取措施：占投诉数的比例；已完成和已逾"
    "期：占已采取措施投诉的比例；客户已确认："
    "占已完成的比例。",
    "action taken": "已采取措施",
    "overdue": "已逾期",
    "completed": "已完成",
    "confirmed": "已确认",
    "Won amount in the base currency by the region of the "
    "selling team, product line and new or existing customer. "
    "Targets are per rep, so a region's target is the sum "
    "of its teams' reps' targets; a cell shows its contribution "
    "to that target (the cells of a region add up to its "
    "attainment).": "按销售团队所在区域、产品线及新老客户统计"
    "的成交金额（本位币）。目标按销售代表设定"
    "，区域目标为其各团队销售代表目标之和；各"
    "细分项显示其对该目标的贡献（一个区域各细"
    "分项之和即为该区域的达成率）。",
    "region": "区域",
    "product line": "产品线",
    "customer": "客户",
    "new": "新客户",
    "existing": "老客户",
    "won amount": "成交金额",
    "won deals": "成交单数",
    "target": "目标",
    "attainment / contribution": "达成率 / 贡献",
    "share of region": "占区域比例",
    "Strengths: the rep's best ranks within the team where "
    "the rep is better than the team median; improvement "
    "points: the largest gaps below the team median. Only "
    "published figures with a sufficient sample are compared, "
    "and no indicator is named a strength while a flag "
    'about its figures is open or confirmed (see <a href="#flags">Flags '
    "under review</a>). The sentences can be pasted into "
    "a review as they are.": "优势：销售代表优于团队中位数、且在团队内"
    "排名最靠前的指标；待改进项：低于团队中位"
    "数差距最大的指标。只比较已公开且样本充足"
    "的数据；若某项指标的数据存在待审核或已确"
    "认的异常标记，则不将其列为优势（见<a "
    'href="#flags">待审核的异常'
    "标记</a>）。以下语句可直接粘贴到绩效"
    "评语中。",
    "rep": "销售代表",
    "strengths": "优势",
    "improvement points": "待改进项",
    "The anomaly rules look for signs that a rep's own "
    "reports or surveys do not match what customers did "
    "and said. A flag asks an auditor to look; nothing "
    "changes until the auditor decides. While a flag of "
    "a rule that holds is not decided, the grade is published "
    "as %(held)s with no bonus coefficient. A confirmed "
    "flag applies its rule's policy (survey answers removed "
    "from NPS and satisfaction, or points deducted); a "
    "dismissed one leaves the figures as they are. %(open)s "
    "flag(s) not decided yet, %(confirmed)s confirmed, "
    "%(dismissed)s dismissed; %(removed)s survey answer(s) "
    "removed from this period's figures.": "异常规则用于发现销售代表自报的信息或问卷"
    "与客户实际行为和评价不一致的迹象。标记只"
    "是提请审核人员核查；审核决定之前不作任何"
    "改动。规则要求暂缓的标记未审核时，评级以"
    "%(held)s状态公布，不给奖金系数。"
    "已确认的标记按其规则的处理方式执行（从净"
    "推荐值和满意度中剔除问卷答复，或扣分）；"
    "已驳回的标记不影响数据。本考核期有 %(open)s "
    "个标记待审核，%(confirmed)s "
    "个已确认，%(dismissed)s 个"
    "已驳回；%(removed)s 份问卷答"
    "复已从本考核期数据中剔除。",
    "what was found": "发现的问题",
    "flags": "标记数",
    "if confirmed": "确认后的处理",
    "decision": "审核结果",
    "No anomaly flag in this period.": "本考核期没有异常标记。",
    "No what-if had been computed on these grades when "
    "this report was published. <code>scorecard what-if "
    "--config ALT.yml --period %(period)s</code> recomputes "
    "the grades under another scheme file without publishing "
    "them and writes a report of its own (<code>reports/whatif/</code>, "
    "listed in <code>reports/index.html</code>); this report "
    "is not changed by it.": "本报告发布时尚未基于这些评级进行假设分析"
    "。<code>scorecard what-if "
    "--config ALT.yml --period "
    "%(period)s</code> 会按"
    "另一份方案文件重新计算评级（不发布），并"
    "单独生成报告（<code>reports/whatif/</code>，"
    "列于 <code>reports/index.html</code>）"
    "；本报告不受其影响。",
    "Small samples and hidden figures": "小样本与隐藏数据",
    "Survey answers are anonymous. A rep's NPS, CSAT or "
    "key-account NPS from fewer answers than the minimum "
    "sample is hidden everywhere (marts and this report); "
    "where a team's or the company's figure together with "
    "the other published figures would let a reader work "
    "a hidden figure out by subtraction, one more figure "
    "is hidden (complementary suppression). Hidden in this "
    "period:": "问卷答复是匿名的。销售代表的净推荐值、客"
    "户满意度或重点客户净推荐值，若答复数少于"
    "最低样本量，则在所有地方隐藏（数据集市和"
    "本报告）；若团队或公司的数据与其他已公开"
    "数据一起可以通过相减推算出被隐藏的数据，"
    "则再隐藏一项数据（连带隐藏）。本考核期隐"
    "藏的数据：",
    ", ": "，",
    ".": "。",
    "nothing.": "无。",
    "Source: the published warehouse %(warehouse)s (schema "
    "marts). Every figure here can be traced in SQL: marts.scorecard, "
    "marts.score_statement (how each grade came about), "
    "marts.indicator_values, marts.team_shortfalls, marts.rep_feedback, "
    "marts.complaint_pareto, marts.improvement_tracking, "
    "marts.sales_breakdown.": "数据来源：已发布的数据仓库 %(warehouse)s（"
    "schema marts）。本报告每个数"
    "字都可以用 SQL 追溯：marts.scorecard、"
    "marts.score_statement（"
    "每个评级的由来）、marts.indicator_values、"
    "marts.team_shortfalls、"
    "marts.rep_feedback、marts.complaint_pareto、"
    "marts.improvement_tracking、"
    "marts.sales_breakdown。",
    "held": "暂缓",
    "%(n)s flag(s) awaiting review": "%(n)s 个标记待审核",
    "Alternative scheme <code>%(config)s</code>, computed "
    "%(computed)s on a copy of the warehouse (%(rebuilt)s); "
    "the published grades were not changed.": "备选方案 <code>%(config)s</code>，"
    "于 %(computed)s 在数据仓库"
    "副本上计算（%(rebuilt)s）；已"
    "发布的评级未被改动。",
    "Every subject side by side": "逐一对比每个对象",
    "%(level)ss: %(changes)s of %(n)s change grade (%(up)s up, %(down)s down)": "%(level)s：%(n)s 个中有 "
    "%(changes)s 个评级变化（上升"
    " %(up)s 个，下降 %(down)s "
    "个）",
    "published ↓ / alternative →": "已发布 ↓ / 备选 →",
    "total": "合计",
    "rank stability": "排名稳定性",
    "Kendall's tau-b of the final scores over %(n)s %(level)ss "
    "graded under both schemes =": "在两套方案下均有评级的 %(n)s 个%(level)s，其最终得分的 Kendall tau-b =",
    "not computable (fewer than 2 %(level)ss graded under both)": "无法计算（在两套方案下均有评级的%(level)s少于2个）",
    "total bonus coefficient": "奖金系数合计",
    "%(published)s published → %(alternative)s alternative": "已发布 %(published)s → 备选 %(alternative)s",
    # the charts
    "Reps per grade, by team": "各团队各评级人数",
    "better (+) / worse (-) than company, relative": "相对公司整体：优于（+）/ 差于（-）",
    "NPS (points)": "净推荐值（分）",
    "NPS per team with its 95% interval": "各团队净推荐值及95%置信区间",
    "cumulative share (%)": "累计占比（%）",
    "Complaints by category, company (red: the vital few reaching 80%)": "公司投诉按类别分布（红色：累计达到80%的"
    "关键少数）",
    "* below minimum sample": "* 样本量低于最低要求",
    "team NPS with 95% interval": "团队净推荐值及95%置信区间",
    "Team value per indicator (company value in brackets, "
    "new customers per team)": "各团队指标值（括号内为公司数值，新增客户数按每个团队计）",
    "company 95% interval": "公司95%置信区间",
    # review states of flags (report/director_data.py)
    " (reviewed by %(who)s)": "（审核人：%(who)s）",
    "; the grade is held (no bonus coefficient) until each is decided": "；评级暂缓（无奖金系数），直至全部审核完成",
    "%(n)s survey answer(s) removed from the figures": "已从数据中剔除 %(n)s 份问卷答复",
    "%(points)s points deducted": "扣 %(points)s 分",
    "noted": "已记录",
    "%(n)s confirmed: %(effect)s": "%(n)s 个已确认：%(effect)s",
    "%(n)s dismissed: the figures stand": "%(n)s 个已驳回：数据不变",
    "%(open)s of %(flags)s not decided yet": "%(flags)s 个中有 %(open)s 个待审核",
    "; ": "；",
    # what each anomaly rule found, in a sales director's words
    "the rep logged praise or a satisfied customer around "
    "the time that customer opened a complaint ticket": "销售代表在客户提交投诉工单前后，记录了该客户的表扬或满意",
    "the rep logged far fewer of their complaints than the other reps do": "销售代表自报的投诉远少于其他销售代表",
    "the satisfaction the rep reported is well above what "
    "the same customers said in surveys": "销售代表自报的满意度明显高于同一批客户在问卷中的评价",
    "surveys the rep handed out score well above the independent "
    "surveys of the same rep": "销售代表自行发放的问卷得分明显高于同一销售代表的独立第三方问卷",
    "a survey answer came from the rep's own device, or "
    "one device answered for several customers": "问卷答复来自销售代表本人的设备，或同一设备替多个客户作答",
    "many top-score survey answers given implausibly fast "
    "or all within a few minutes": "大量满分问卷答复用时异常短，或集中在几分钟内提交",
    "a reported customer contact has no deal, visit, proposal "
    "or follow-up behind it": "自报的客户接触没有任何商机、拜访、方案或回访记录支撑",
    "its survey answers are removed from NPS and satisfaction": "其问卷答复将从净推荐值和满意度中剔除",
    "points are deducted from the final score": "从最终得分中扣分",
    "noted, the figures are unchanged": "仅记录，数据不变",
    # the auditor's report
    "Not available in this run: %(note)s.": "本次运行中不可用：%(note)s。",
    "Auditor report": "审计报告",
    "run": "运行",
    "generated": "生成于",
    "warehouse": "数据仓库",
    "Run status": "运行状态",
    "Rows in": "输入行数",
    "Quarantined rows": "隔离行数",
    "Failed checks": "未通过的检查",
    "none ran": "未运行任何检查",
    "none": "无",
    "the run failed outside its checks": "运行在检查之外失败",
    "Anomaly flags": "异常标记",
    "Awaiting review": "待审核",
    "Clamped adjustments": "被截断的调整",
    "What failed:": "失败原因：",
    "no reason was recorded (see the run log)": "未记录原因（见运行日志）",
    "Nothing of this run was published: the marts of the "
    "last published run stay in place.": "本次运行的结果均未发布：保留上一次发布运行的数据集市。",
    "The run stopped before any check ran: no check result, "
    "passed or failed, exists for it.": "运行在任何检查之前就已停止：没有任何检查结果（通过或未通过）。",
    "No check failed: the run stopped on the error above, "
    "outside its checks (%(n)s checks ran before it).": "没有检查未通过：运行因上述错误在检查之外"
    "停止（此前运行了 %(n)s 项检查）。",
    "Review queue and decisions": "审核队列与审核决定",
    "1. Run summary": "1. 运行概况",
    "2. Validation results": "2. 校验结果",
    "3. Quarantine": "3. 隔离区",
    "4. Anomaly flags": "4. 异常标记",
    "5. Manager adjustments": "5. 经理调整",
    "6. Run history": "6. 运行历史",
    "Review queue: %(n)s open flag, oldest first": "审核队列：%(n)s 个待审核标记，最早的在前",
    "Review queue: %(n)s open flags, oldest first": "审核队列：%(n)s 个待审核标记，最早的在前",
    "No flag awaits a decision (none).": "没有等待审核的标记（无）。",
    "%(n)s of them hold their subject's grade (no bonus "
    'coefficient) until decided (<span class="mono">hold</span>). '
    'Decide with <span class="mono">scorecard review FLAG_ID '
    "--confirm|--dismiss --by NAME --reason TEXT</span>; "
    "the decision reaches the grades at the next run.": "其中 %(n)s 个标记在审核前暂缓其对"
    '象的评级（无奖金系数，<span class="mono">hold</span>）'
    '。用 <span class="mono">scorecard '
    "review FLAG_ID --confirm|--dismiss "
    "--by NAME --reason TEXT</span> "
    "作出审核决定；决定在下一次运行时反映到评"
    "级中。",
    "age (days)": "等待天数",
    "flag": "标记",
    "rule": "规则",
    "period": "考核期",
    "severity": "严重程度",
    "strength": "强度",
    "holds the grade": "暂缓评级",
    "evidence": "证据",
    "%(n)s more open flags not shown (all are in marts.anomaly_flags, "
    "review_status = 'open').": "另有 %(n)s 个待审核标记未显示（全部见 marts.anomaly_flags，review_status = 'open'）。",
    "Decision log: %(n)s decision (audit.flag_reviews, "
    "append-only), latest first": "审核记录：%(n)s 条决定（audit.flag_reviews，只追加），最新的在前",
    "Decision log: %(n)s decisions (audit.flag_reviews, "
    "append-only), latest first": "审核记录：%(n)s 条决定（audit.flag_reviews，只追加），最新的在前",
    "No decision has been recorded (none).": "尚未记录任何审核决定（无）。",
    "decided at (UTC)": "决定时间（UTC）",
    "reviewer": "审核人",
    "reason": "理由",
    "in force": "是否生效",
    "first read by run": "首次读取的运行",
    "superseded": "已被取代",
    "%(n)s older decisions not shown.": "另有 %(n)s 条较早的决定未显示。",
    "Decisions rejected by this run: %(n)s": "本次运行拒收的审核决定：%(n)s",
    "file": "文件",
    "line": "行号",
    "decision (key)": "审核决定（键）",
    "This run is not recorded in audit.runs yet: it is "
    "still in progress (the runner records status, times "
    "and failure reason when the run ends). The figures "
    "below are what the run has written so far.": "本次运行尚未记录在 audit.runs "
    "中：运行仍在进行（运行结束时记录状态、时"
    "间和失败原因）。以下数字是本次运行目前已"
    "写入的内容。",
    "Status": "状态",
    "Started": "开始时间",
    "Finished": "结束时间",
    "As-of": "数据截至",
    "Failure reason": "失败原因",
    "Published": "是否发布",
    "the marts of the last published run stay in place": "保留上一次发布运行的数据集市",
    "Checks (Dagster)": "检查（Dagster）",
    "%(passed)s passed, %(failed)s failed": "%(passed)s 项通过，%(failed)s 项未通过",
    ": the run failed outside its checks (failure reason above)": "：运行在检查之外失败（原因见上）",
    "Landing folder": "落地目录",
    "Scheme file": "方案文件",
    "Rows per entity": "各实体行数",
    "No row counts recorded for this run (none).": "本次运行没有记录行数（无）。",
    "Invariant: rows in = accepted + quarantined + exact "
    "duplicates + superseded; every quarantined row is "
    "stored in audit.quarantine (a quarantine that loses "
    "no row).": "恒等式：输入行数 = 接受 + 隔离 + "
    "完全重复 + 被取代；每个隔离的行都保存"
    "在 audit.quarantine 中"
    "（隔离区不丢失任何行）。",
    "The invariant does not hold for: %(entities)s.": "以下实体不满足恒等式：%(entities)s。",
    "entity": "实体",
    "files": "文件数",
    "rows in": "输入行数",
    "accepted": "接受",
    "quarantined": "隔离",
    "exact duplicates": "完全重复",
    "rows in = sum": "输入行数 = 合计",
    "stored in audit.quarantine": "保存在 audit.quarantine",
    "all entities": "全部实体",
    "No check results recorded for this run (none).": "本次运行没有记录检查结果（无）。",
    "audit.runs counts %(passed)s passed and %(failed)s "
    "failed Dagster checks for this run, but no per-check "
    "result was stored in audit.check_results.": "audit.runs 记录本次运行有 %(passed)s "
    "项 Dagster 检查通过、%(failed)s "
    "项未通过，但 audit.check_results "
    "中没有保存各项检查的结果。",
    "%(total)s checks: %(passed)s passed, %(failed)s failed "
    "(%(blocking)s blocking severity, %(warnings)s warnings). "
    "A failing check links to its failing rows (row key, "
    "column, bad value, message), at most %(cap)s per check.": "共 %(total)s 项检查：%(passed)s "
    "项通过，%(failed)s 项未通过（"
    "%(blocking)s 项为阻断级，%(warnings)s "
    "项为警告）。未通过的检查链接到其不合格行"
    "（行键、列、错误值、消息），每项检查最多"
    " %(cap)s 行。",
    "audit.check_results is not in the warehouse: checks "
    "are derived from their stored failing rows.": "数据仓库中没有 audit.check_results：检查由其保存的不合格行推得。",
    "audit.validation_failures is not in the warehouse: "
    "no row-level detail.": "数据仓库中没有 audit.validation_failures：没有行级明细。",
    "Only the first %(n)s checks are listed.": "只列出前 %(n)s 项检查。",
    "kind": "类型",
    "checks": "检查数",
    "passed": "通过",
    "failed": "失败",
    "source with a failing check": "有未通过检查的来源",
    "of which blocking": "其中阻断级",
    "failing rows": "不合格行数",
    "none: every check passed": "无：所有检查均通过",
    "Every check passed on %(n)s source (checks):": "以下 %(n)s 个来源的检查全部通过（检查数）：",
    "Every check passed on %(n)s sources (checks):": "以下 %(n)s 个来源的检查全部通过（检查数）：",
    "Failing checks": "未通过的检查",
    "source": "来源",
    "check": "检查",
    "message": "消息",
    "No check failed in this run (none).": "本次运行没有未通过的检查（无）。",
    "Failing rows per failing check": "各未通过检查的不合格行",
    "unknown kind": "未知类型",
    "Failing rows reported: %(reported)s; stored in audit.validation_failures: "
    "%(stored)s.": "报告的不合格行：%(reported)s；保存在 audit.validation_failures 中：%(stored)s。",
    "Showing %(n)s by row key": "按行键显示 %(n)s 行",
    "%(n)s more not shown": "另有 %(n)s 行未显示",
    "(all are in audit.validation_failures for this run, source and check)": "（全部见 audit.validation_failures "
    "中本次运行、该来源和该检查的记录）",
    "row key": "行键",
    "column": "列",
    "bad value": "错误值",
    "No row-level detail stored for this check (none).": "该检查没有保存行级明细（无）。",
    "back to the failing checks": "返回未通过的检查",
    "Passing checks by source and kind": "按来源和类型统计的通过检查",
    "The failing checks are listed above. The %(n)s passing "
    "checks are counted per source and check kind; open "
    "a source to see each of its checks.": "未通过的检查列在上方。%(n)s 项通过"
    "的检查按来源和检查类型计数；展开一个来源"
    "可查看其每项检查。",
    "result": "结果",
    "No check passed in this run (none).": "本次运行没有通过的检查（无）。",
    "No row was quarantined in this run (none).": "本次运行没有被隔离的行（无）。",
    "%(n)s row quarantined.": "%(n)s 行被隔离。",
    "%(n)s rows quarantined.": "%(n)s 行被隔离。",
    "A row with several reasons counts once under each "
    "of them, so reason counts can add up to more than "
    "the rows. Reasons are grouped with the offending value "
    "blanked (…); one full reason is shown as an example. "
    "Up to %(cap)s raw rows per source are shown, in file "
    "order.": "有多个原因的行在每个原因下各计一次，因此"
    "各原因的行数之和可能多于总行数。原因按去"
    "掉具体错误值（…）后分组；每组显示一个完"
    "整原因作为示例。每个来源按文件顺序最多显"
    "示 %(cap)s 个原始行。",
    "Only the most frequent reason groups are listed.": "只列出最常见的原因分组。",
    "rows quarantined": "隔离行数",
    "with several reasons": "有多个原因",
    "distinct reasons": "不同原因数",
    "%(n)s row": "%(n)s 行",
    "%(n)s rows": "%(n)s 行",
    "rows": "行数",
    "example": "示例",
    "file : row": "文件 : 行",
    "reasons": "原因",
    "raw row": "原始行",
    "%(n)s more rows not shown (all are in audit.quarantine).": "另有 %(n)s 行未显示（全部见 audit.quarantine）。",
    "No anomaly flag is published (none).": "没有已发布的异常标记（无）。",
    "Flags as published in marts.anomaly_flags: %(total)s "
    "flags, %(new)s first raised by this run. Per rule, "
    "up to %(cap)s flags are shown, strongest first, each "
    "with the evidence that triggered it.": "marts.anomaly_flags "
    "中已发布的标记：共 %(total)s "
    "个，其中 %(new)s 个由本次运行首"
    "次提出。每条规则最多显示 %(cap)s "
    "个标记，按强度由强到弱排列，并附触发该标"
    "记的证据。",
    "new in this run": "本次新增",
    "periods": "考核期数",
    "strength (min – max)": "强度（最小 – 最大）",
    "<strong>Strength</strong>: how strong the evidence "
    "of a flag is, in the rule's own measure (higher is "
    "stronger; it orders the flags of one rule, not flags "
    "of different rules):": "<strong>强度</strong>："
    "标记证据的强弱，按各规则自己的度量（越高"
    "越强；只用于同一规则内标记的排序，不同规"
    "则之间不可比）：",
    "%(n)s flag": "%(n)s 个标记",
    "%(n)s flags": "%(n)s 个标记",
    "customer / response": "客户 / 问卷答复",
    "%(n)s more flags of this rule not shown (all are in marts.anomaly_flags).": "该规则另有 %(n)s 个标记未显示（全"
    "部见 marts.anomaly_flags）"
    "。",
    "No manager adjustment (none).": "没有经理调整（无）。",
    "%(adjustments)s adjustments on %(subjects)s subject-periods (audit.adjustments).": "%(subjects)s 个对象·考核期"
    "共有 %(adjustments)s 项"
    "调整（audit.adjustments）"
    "。",
    "The sum of a subject's adjustments in a period is "
    "clamped to ± the configured limit": "一个对象在一个考核期内的调整合计被截断在配置的 ± 上限以内",
    "%(n)s points": "%(n)s 分",
    "<strong>%(n)s</strong> subject-periods were clamped.": "<strong>%(n)s</strong> 个对象·考核期被截断。",
    "Clamped subjects": "被截断的对象",
    "level": "层级",
    "subject": "对象",
    "adjustments": "调整项数",
    "raw sum": "原始合计",
    "clamped sum": "截断后合计",
    "adjustment points in scorecard": "计分卡中的调整分",
    "adjustment ids": "调整编号",
    "Every adjustment": "全部调整",
    "id": "编号",
    "counts in period": "计入考核期",
    "label given": "填写的考核期",
    "approved by": "批准人",
    "subject raw sum": "对象原始合计",
    "subject clamped sum": "对象截断后合计",
    "clamped": "已截断",
    "%(n)s more adjustments not shown (all are in audit.adjustments).": "另有 %(n)s 项调整未显示（全部见 "
    "audit.adjustments）。",
    "No run recorded in audit.runs (none).": "audit.runs 中没有运行记录（无）。",
    "The latest %(shown)s of %(total)s runs recorded in "
    "audit.runs; a run links to its report when it was "
    "rendered into this folder.": "audit.runs 中记录的 %(total)s "
    "次运行中最近的 %(shown)s 次；"
    "若某次运行的报告生成在本目录中，则链接到"
    "该报告。",
    "started": "开始时间",
    "as-of": "数据截至",
    "status": "状态",
    "checks passed": "通过的检查",
    "checks failed": "未通过的检查",
    "published": "已发布",
    "this report": "本报告",
    "Rendered by orchestration.reports.auditor from audit.runs, "
    "audit.run_counts, audit.check_results, audit.validation_failures, "
    "audit.quarantine, marts.anomaly_flags, audit.adjustments "
    "and marts.scorecard. Anomaly flags and adjustments "
    "are the models as last built; the other sections are "
    "scoped to run <code>%(run_id)s</code>.": "由 orchestration.reports.auditor "
    "根据 audit.runs、audit.run_counts、"
    "audit.check_results、"
    "audit.validation_failures、"
    "audit.quarantine、marts.anomaly_flags、"
    "audit.adjustments 和 "
    "marts.scorecard 生成。异"
    "常标记和调整为最近一次构建的模型；其他部"
    "分限于运行 <code>%(run_id)s</code>。",
    # what the strength of a flag measures, per rule (report/auditor_data.py STRENGTH)
    "distinct complaint tickets within the window of the "
    "rep's positive records": "销售代表正面记录时间窗口内的不同投诉工单数",
    "complaint reports missing against the peers' ratio "
    "(expected - reported)": "按同事比例推算缺少的投诉自报数（预期 - 自报）",
    "gap in points between the mean claimed satisfaction "
    "and the mean third-party csat": "自报满意度均值与第三方满意度均值之差（分）",
    "z statistic of the gap between rep-distributed and third-party answers": "销售代表自发问卷与第三方问卷差异的 z "
    "统计量",
    "distinct customers of the rep answered from one device fingerprint": "同一设备指纹作答的该销售代表的不同客户数",
    "the count of fast or bunched answers that triggered the rule": "触发规则的快速作答或集中作答的数量",
    "the rep's self-reported contacts with the customer "
    "that no record supports": "没有任何记录支撑的该销售代表自报客户接触数",
    # run and check outcomes (badges)
    "succeeded": "成功",
    "abandoned": "已中止",
    "unknown": "未知",
    "holds": "成立",
    "broken": "不成立",
    # the what-if report (director_whatif.html)
    "What-if": "假设分析",
    "What-if %(name)s: grades of %(period)s under another scheme": "假设分析 %(name)s：%(period)s 在另一方案下的评级",
    "Published grades of %(warehouse)s against <code>%(config)s</code> "
    "· computed %(computed)s. Nothing was published: the "
    "alternative grades were computed in a temporary copy "
    "of the warehouse.": "%(warehouse)s 的已发布评级"
    "对比 <code>%(config)s</code> "
    "· 计算于 %(computed)s。未"
    "发布任何内容：备选评级在数据仓库的临时副"
    "本中计算。",
    "Summary": "概要",
    "Highlighted: the grade changes. Scores are final scores "
    "(rounded half-up to 2 decimals); the change is alternative "
    "minus published.": "高亮：评级有变化。得分为最终得分（四舍五入到2位小数）；变化 = 备选 - 已发布。",
    "published score": "已发布得分",
    "published grade": "已发布评级",
    "bonus": "奖金系数",
    "alternative score": "备选得分",
    "alternative grade": "备选评级",
    "change": "变化",
    # small-cell disclosure (survey.anonymity_k)
    "Hidden survey cells": "隐藏的问卷数据格",
    "Hidden survey cells: %(hidden)s of %(cells)s survey figures with answers (%(pct)s %%; %(pct_all)s %% of all "
    "%(all)s indicator cells): %(below_k)s from fewer than anonymity_k answers, %(complementary)s complementary. "
    "Their full figures stay in audit.indicator_values; marts.indicator_values.disclosure says which rule hid "
    'each (docs/analysis.md "Small-cell protection").': "隐藏的问卷数据格：在 %(cells)s 个有答卷的问卷数据中隐藏了 "
    "%(hidden)s 个（%(pct)s%%；占全部 %(all)s 个指标数据格的 %(pct_all)s%%）：%(below_k)s 个因答卷少于 anonymity_k，"
    "%(complementary)s 个为互补隐藏。其完整数据保留在 audit.indicator_values 中；marts.indicator_values.disclosure "
    "说明每一格是按哪条规则隐藏的（docs/analysis.md “Small-cell protection”）。",
    "Survey answers are anonymous. A rep's or a team's "
    "NPS, CSAT or key-account NPS from fewer answers than "
    "the anonymity threshold (survey.anonymity_k in the "
    "scheme file, 5 by default) is hidden everywhere (marts "
    "and this report); where a team's or the company's "
    "figure together with the other published figures would "
    "let a reader work a hidden figure out by subtraction, "
    "one more figure at the same level is hidden (complementary "
    "suppression), and a hidden figure counts in no composite. "
    "A figure from enough answers but below its minimum "
    "sample is shown with a * and not graded. The company's "
    "figures are always shown. Hidden in this period:": "问卷答复是匿名的。销售代表或团队的净推荐"
    "值、客户满意度或重点客户净推荐值，若答复"
    "数少于匿名阈值（方案文件中的 survey.anonymity_k，"
    "默认 5），则在所有地方隐藏（数据集市和"
    "本报告）；若团队或公司的数据与其他已公开"
    "数据一起可以通过相减推算出被隐藏的数据，"
    "则在同一层级再隐藏一项数据（连带隐藏），"
    "且隐藏的数据不计入任何综合得分。答复数足"
    "够但低于最低样本量的数据会显示并标 *，"
    "但不参与评级。公司的数据始终公开。本考核"
    "期隐藏的数据：",
    # the reports' index (index.html)
    "Scorecard reports": "计分卡报告",
    "page written": "页面生成于",
    "Latest run": "最近一次运行",
    "finished": "结束于",
    "not recorded": "未记录",
    ", published": "，已发布",
    ", not published": "，未发布",
    "The published marts are those of run <code>%(run_id)s</code> "
    "(finished %(finished)s UTC).": "已发布的数据集市来自运行 <code>%(run_id)s</code>（结束于 %(finished)s UTC）。",
    "No run is recorded in this warehouse yet.": "此数据仓库尚无运行记录。",
    "For auditors": "审计人员",
    "Auditor's report of the latest run": "最近一次运行的审计报告",
    "(validation results, quarantine, anomaly flags, review "
    "queue, run history)": "（校验结果、隔离区、异常标记、审核队列、运行历史）",
    "Validation docs": "校验文档",
    "(Great Expectations suites and results)": "（Great Expectations 校验套件与结果）",
    "none yet": "暂无",
    "For directors and HR: one report per period": "管理层与人力资源：每个考核期一份报告",
    "Weight what-ifs (not published grades)": "权重假设分析（非已发布评级）",
    "none (scorecard what-if --config ALT.yml)": "暂无（scorecard what-if --config ALT.yml）",
    "For analysts": "分析人员",
    "The marts' docs": "数据集市文档",
    "(every published table and column with its type and "
    "meaning, the lineage, the reports that read them: "
    "dbt docs)": "（每个已发布的表和列及其类型与含义、数据血缘、读取它们的报告：dbt docs）",
    "the marts' docs (dbt docs) are not built yet: <code>scorecard "
    "docs</code> (<code>make docs</code>) builds them; "
    "their columns are described in dbt_project/models/marts/*.yml": "数据集市文档（dbt docs）尚未生成"
    "：<code>scorecard docs</code>（"
    "<code>make docs</code>）"
    "可生成；各列的说明见 dbt_project/models/marts/*.yml",
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
            "grade_labels",
            "language -> grade id -> its name, for the known ids (a scheme's own names are for the reports).",
            {lang: {g: _pick(pair, lang) for g, pair in GRADE_LABELS.items()} for lang in LANGUAGES},
        ),
        _macro(
            "rule_labels",
            "language -> anomaly rule id -> its name.",
            {lang: {r.id: r.label(lang) for r in ANOMALY_RULES} for lang in LANGUAGES},
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
