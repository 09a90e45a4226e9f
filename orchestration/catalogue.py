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


# The reports' own text in zh-CN, keyed by its English wording (the text the templates and report modules
# write: `_("...")`, `{% trans %}` blocks, `ui_text("...")`; orchestration/report/language.py). A text
# missing here is shown in English: tests/unit/test_report_language.py lists every text of the directors'
# report and fails on one without a translation.
UI_TEXT: dict[str, str] = {
    # the directors' report: headings, cards and table heads
    "Sales scorecard": "销售计分卡",
    "directors and HR": "管理层与人力资源",
    "Sales scorecard %(period)s: grades, strengths and gaps": "销售计分卡 %(period)s：评级、优势与差距",
    "Period %(period)s (%(grain)s) · data as of %(as_of)s · "
    "report generated %(generated)s": "考核期 %(period)s（%(grain)s）· 数据截至 %(as_of)s · 报告生成于 %(generated)s",
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
    "<strong>Reading the scores.</strong> A final score is the "
    "weighted sum of the indicator scores, plus progress points "
    "(for a composite that rose over the previous period), plus "
    "the managers' adjustments, minus the penalties of confirmed "
    "flags. It can pass 100: an indicator scored by its own "
    "value may go above 100 up to its cap (sales above target), "
    "and progress points and adjustments come on top. The <em>total "
    "bonus coefficient</em> card adds up the bonus coefficients "
    "of the reps' grades in this period; a grade held for review "
    "adds nothing until its flags are decided, and a rep without "
    "enough data adds nothing.": "<strong>如何解读得分。</strong>最"
    "终得分 = 各指标得分的加权和，加上进步分（综合"
    "得分较上一考核期提高时），加上经理调整分，再减去"
    "已确认标记的扣分。最终得分可以超过100：按指标"
    "数值计分的指标最高可超过100直至其上限（如销售"
    "超额完成），进步分和调整分另行累加。<em>奖金"
    "系数合计</em>卡片为本考核期各销售代表评级对"
    "应的奖金系数之和；暂缓待审的评级在其标记审核完成"
    "前不计入，数据不足的销售代表也不计入。",
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
    "Green: better than the company, red: worse (relative difference, "
    "lower is better for the complaint rate and the median response "
    "time, capped at ±30 %). Grey: no value or hidden.": "绿色：优于公司整体；红色：差于公司整体（相对差异"
    "，投诉率和响应时长中位数越低越好，上下限 ±30%）"
    "。灰色：无数据或已隐藏。",
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
    "* sample below the indicator's minimum: shown, but left "
    "out of the grade. Values are unrounded in the warehouse "
    "(marts.indicator_values) and rounded to one decimal here.": "* 样本量低于该指标的最低要求：予以显示，但不计"
    "入评级。数据仓库（marts.indicator_values）"
    "中的数值未经舍入，此处保留一位小数。",
    "Team NPS (promoters minus detractors over responses) with "
    "its 95 % interval; the band is the company's.": "团队净推荐值（推荐者减去贬损者，除以答复数）及其"
    "95%置信区间；色带为公司整体的区间。",
    "No team NPS published for this period.": "本考核期没有公开的团队净推荐值。",
    "95 % interval": "95%置信区间",
    "responses": "答复数",
    "hidden (small-sample protection)": "已隐藏（小样本保护）",
    "no responses": "无答复",
    "Complaint tickets opened in the period by category, largest "
    "first; the vital few are the categories up to the one at "
    "which the cumulative share reaches 80 %.": "本考核期内新开投诉工单按类别统计，由多到少排列；"
    "“关键少数”是累计占比达到80%为止的各类别。",
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
    "(worst first: the largest gap relative to the company value). "
    "Rank among the teams: 1 = best. Weight: the indicator's "
    "weight in the team's grade.": "每个团队相对公司整体最差的三项指标（按相对公司数"
    "值的差距由大到小排列）。团队间排名：1 = 最好"
    "。权重：该指标在团队评级中的权重。",
    "gap": "差距",
    "relative gap": "相对差距",
    "weight": "权重",
    "per team": "每个团队",
    "%(rank)s of %(n)s": "第%(rank)s名，共%(n)s个",
    "No team is below the company on any indicator.": "没有团队在任何指标上低于公司整体。",
    "Improvement actions on complaints": "投诉整改措施",
    "Action taken: of the complaints; completed and overdue: "
    "of the complaints with an action; confirmed: of the completed "
    "ones.": "已采取措施：占投诉数的比例；已完成和已逾期：占已采取措施投诉的比例；客户已确认：占已完成的比例。",
    "action taken": "已采取措施",
    "overdue": "已逾期",
    "completed": "已完成",
    "confirmed": "已确认",
    "Won amount in the base currency by the region of the selling "
    "team, product line and new or existing customer. Targets "
    "are per rep, so a region's target is the sum of its teams' "
    "reps' targets; a cell shows its contribution to that target "
    "(the cells of a region add up to its attainment).": "按销售团队所在区域、产品线及新老客户统计的成交金"
    "额（本位币）。目标按销售代表设定，区域目标为其各"
    "团队销售代表目标之和；各细分项显示其对该目标的贡"
    "献（一个区域各细分项之和即为该区域的达成率）。",
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
    "Strengths: the rep's best ranks within the team where the "
    "rep is better than the team median; improvement points: "
    "the largest gaps below the team median. Only published "
    "figures with a sufficient sample are compared, and no indicator "
    "is named a strength while a flag about its figures is open "
    'or confirmed (see <a href="#flags">Flags under review</a>). '
    "The sentences can be pasted into a review as they are.": "优势：销售代表优于团队中位数、且在团队内排名最靠"
    "前的指标；待改进项：低于团队中位数差距最大的指标"
    "。只比较已公开且样本充足的数据；若某项指标的数据"
    "存在待审核或已确认的异常标记，则不将其列为优势（"
    '见<a href="#flags">待审核的异常'
    "标记</a>）。以下语句可直接粘贴到绩效评语中。",
    "rep": "销售代表",
    "strengths": "优势",
    "improvement points": "待改进项",
    "The anomaly rules look for signs that a rep's own reports "
    "or surveys do not match what customers did and said. A "
    "flag asks an auditor to look; nothing changes until the "
    "auditor decides. While a flag of a rule that holds is not "
    "decided, the grade is published as %(held)s with no bonus "
    "coefficient. A confirmed flag applies its rule's policy "
    "(survey answers removed from NPS and satisfaction, or points "
    "deducted); a dismissed one leaves the figures as they are. "
    "%(open)s flag(s) not decided yet, %(confirmed)s confirmed, "
    "%(dismissed)s dismissed; %(removed)s survey answer(s) removed "
    "from this period's figures.": "异常规则用于发现销售代表自报的信息或问卷与客户实"
    "际行为和评价不一致的迹象。标记只是提请审核人员核"
    "查；审核决定之前不作任何改动。规则要求暂缓的标记"
    "未审核时，评级以%(held)s状态公布，不给奖"
    "金系数。已确认的标记按其规则的处理方式执行（从净"
    "推荐值和满意度中剔除问卷答复，或扣分）；已驳回的"
    "标记不影响数据。本考核期有 %(open)s 个"
    "标记待审核，%(confirmed)s 个已确认"
    "，%(dismissed)s 个已驳回；%(removed)s "
    "份问卷答复已从本考核期数据中剔除。",
    "what was found": "发现的问题",
    "flags": "标记数",
    "if confirmed": "确认后的处理",
    "decision": "审核结果",
    "No anomaly flag in this period.": "本考核期没有异常标记。",
    "No what-if had been computed on these grades when this "
    "report was published. <code>scorecard what-if --config "
    "ALT.yml --period %(period)s</code> recomputes the grades "
    "under another scheme file without publishing them and writes "
    "a report of its own (<code>reports/whatif/</code>, listed "
    "in <code>reports/index.html</code>); this report is not "
    "changed by it.": "本报告发布时尚未基于这些评级进行假设分析。<code>scorecard "
    "what-if --config ALT.yml "
    "--period %(period)s</code> "
    "会按另一份方案文件重新计算评级（不发布），并单独"
    "生成报告（<code>reports/whatif/</code>，"
    "列于 <code>reports/index.html</code>）"
    "；本报告不受其影响。",
    "Small samples and hidden figures": "小样本与隐藏数据",
    "Survey answers are anonymous. A rep's NPS, CSAT or key-account "
    "NPS from fewer answers than the minimum sample is hidden "
    "everywhere (marts and this report); where a team's or the "
    "company's figure together with the other published figures "
    "would let a reader work a hidden figure out by subtraction, "
    "one more figure is hidden (complementary suppression). "
    "Hidden in this period:": "问卷答复是匿名的。销售代表的净推荐值、客户满意度"
    "或重点客户净推荐值，若答复数少于最低样本量，则在"
    "所有地方隐藏（数据集市和本报告）；若团队或公司的"
    "数据与其他已公开数据一起可以通过相减推算出被隐藏"
    "的数据，则再隐藏一项数据（连带隐藏）。本考核期隐"
    "藏的数据：",
    ", ": "，",
    ".": "。",
    "nothing.": "无。",
    "Source: the published warehouse %(warehouse)s (schema marts). "
    "Every figure here can be traced in SQL: marts.scorecard, "
    "marts.score_statement (how each grade came about), marts.indicator_values, "
    "marts.team_shortfalls, marts.rep_feedback, marts.complaint_pareto, "
    "marts.improvement_tracking, marts.sales_breakdown.": "数据来源：已发布的数据仓库 %(warehouse)s（"
    "schema marts）。本报告每个数字都可以"
    "用 SQL 追溯：marts.scorecard、"
    "marts.score_statement（每个"
    "评级的由来）、marts.indicator_values、"
    "marts.team_shortfalls、marts.rep_feedback、"
    "marts.complaint_pareto、marts.improvement_tracking、"
    "marts.sales_breakdown。",
    "held": "暂缓",
    "%(n)s flag(s) awaiting review": "%(n)s 个标记待审核",
    "Alternative scheme <code>%(config)s</code>, computed %(computed)s "
    "on a copy of the warehouse (%(rebuilt)s); the published "
    "grades were not changed.": "备选方案 <code>%(config)s</code>，"
    "于 %(computed)s 在数据仓库副本上计"
    "算（%(rebuilt)s）；已发布的评级未被改"
    "动。",
    "Every subject side by side": "逐一对比每个对象",
    "%(level)ss: %(changes)s of %(n)s change grade (%(up)s up, %(down)s down)": "%(level)s：%(n)s 个中有 %(changes)s "
    "个评级变化（上升 %(up)s 个，下降 %(down)s "
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
    "Complaints by category, company (red: the vital few reaching 80%)": "公司投诉按类别分布（红色：累计达到80%的关键少"
    "数）",
    "* below minimum sample": "* 样本量低于最低要求",
    "team NPS with 95% interval": "团队净推荐值及95%置信区间",
    "Team value per indicator (company value in brackets, new "
    "customers per team)": "各团队指标值（括号内为公司数值，新增客户数按每个团队计）",
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
    "the rep logged praise or a satisfied customer around the "
    "time that customer opened a complaint ticket": "销售代表在客户提交投诉工单前后，记录了该客户的表扬或满意",
    "the rep logged far fewer of their complaints than the other reps do": "销售代表自报的投诉远少于其他销售代表",
    "the satisfaction the rep reported is well above what the "
    "same customers said in surveys": "销售代表自报的满意度明显高于同一批客户在问卷中的评价",
    "surveys the rep handed out score well above the independent "
    "surveys of the same rep": "销售代表自行发放的问卷得分明显高于同一销售代表的独立第三方问卷",
    "a survey answer came from the rep's own device, or one "
    "device answered for several customers": "问卷答复来自销售代表本人的设备，或同一设备替多个客户作答",
    "many top-score survey answers given implausibly fast or "
    "all within a few minutes": "大量满分问卷答复用时异常短，或集中在几分钟内提交",
    "a reported customer contact has no deal, visit, proposal "
    "or follow-up behind it": "自报的客户接触没有任何商机、拜访、方案或回访记录支撑",
    "its survey answers are removed from NPS and satisfaction": "其问卷答复将从净推荐值和满意度中剔除",
    "points are deducted from the final score": "从最终得分中扣分",
    "noted, the figures are unchanged": "仅记录，数据不变",
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
