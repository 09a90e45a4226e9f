{#- Generated from orchestration/catalogue.py by `python -m orchestration.catalogue --write`
    (`make catalogue`); do not edit: edit the catalogue and regenerate. -#}

{#- The indicator catalogue (SCORING.md), in catalogue order: one score column per entry in `scorecard`. -#}
{% macro indicator_catalogue() -%}
    {{ return([
        'sales_attainment',
        'collection_rate',
        'new_customers',
        'nps',
        'csat',
        'complaint_rate',
        'complaint_resolution_24h',
        'repeat_purchase_rate',
        'key_account_nps',
        'response_sla_rate',
        'median_response_hours',
        'requirement_accuracy',
        'followup_completion',
        'referral_rate',
    ]) }}
{%- endmacro %}

{#- indicator -> unit: '%', 'points' (-100..100), 'count' or 'h'. -#}
{% macro indicator_units() -%}
    {{ return({
        'sales_attainment': '%',
        'collection_rate': '%',
        'new_customers': 'count',
        'nps': 'points',
        'csat': '%',
        'complaint_rate': '%',
        'complaint_resolution_24h': '%',
        'repeat_purchase_rate': '%',
        'key_account_nps': 'points',
        'response_sla_rate': '%',
        'median_response_hours': 'h',
        'requirement_accuracy': '%',
        'followup_completion': '%',
        'referral_rate': '%',
    }) }}
{%- endmacro %}

{#- Survey-based indicators: masked at rep level when insufficient (anonymity of answers). -#}
{% macro survey_indicators() -%}
    {{ return(['nps', 'csat', 'key_account_nps']) }}
{%- endmacro %}

{#- Indicators where a lower value is better. -#}
{% macro lower_is_better_indicators() -%}
    {{ return(['complaint_rate', 'median_response_hours']) }}
{%- endmacro %}

{#- The anomaly rules: rule -> {setting: documented default} (macros/anomaly_settings.sql). -#}
{% macro anomaly_rules() -%}
    {{ return({
        'hidden_complaint': {'window_days': 14},
        'complaint_underreporting': {'min_tickets': 5, 'confidence': 0.99, 'max_ratio_to_peers': 0.5},
        'inflated_self_report': {'min_gap': 1.0, 'min_customers': 5},
        'channel_gap': {'confidence': 0.95, 'min_responses': 10},
        'self_filled_survey': {'min_customers': 3},
        'speeder_burst': {'top_nps': 9, 'speeder_share_of_median': 0.3, 'min_responses': 5, 'burst_minutes': 30, 'confidence': 0.99},
        'fabricated_contact': {'window_days': 30},
    }) }}
{%- endmacro %}

{#- rule -> the indicators whose figures a flag of the rule is about (macros/flag_reviews.sql). -#}
{% macro anomaly_rule_indicators() -%}
    {{ return({
        'hidden_complaint': ['complaint_rate', 'complaint_resolution_24h'],
        'complaint_underreporting': ['complaint_rate', 'complaint_resolution_24h'],
        'inflated_self_report': ['csat'],
        'channel_gap': ['nps', 'csat', 'key_account_nps'],
        'self_filled_survey': ['nps', 'csat', 'key_account_nps'],
        'speeder_burst': ['nps', 'csat', 'key_account_nps'],
        'fabricated_contact': [],
    }) }}
{%- endmacro %}

{#- language -> indicator -> its label (the report language, macros/report_text.sql). -#}
{% macro indicator_labels() -%}
    {{ return({
        'en': {'sales_attainment': 'Sales attainment', 'collection_rate': 'Collection rate', 'new_customers': 'New customers', 'nps': 'NPS', 'csat': 'Customer satisfaction', 'complaint_rate': 'Complaint rate', 'complaint_resolution_24h': 'Complaints resolved within 24 h', 'repeat_purchase_rate': 'Repeat purchase rate', 'key_account_nps': 'Key-account NPS', 'response_sla_rate': 'Response within SLA', 'median_response_hours': 'Median response time', 'requirement_accuracy': 'Requirement accuracy', 'followup_completion': 'Follow-up completion', 'referral_rate': 'Referral rate'},
        'zh-CN': {'sales_attainment': '销售目标达成率', 'collection_rate': '回款率', 'new_customers': '新增客户数', 'nps': '净推荐值', 'csat': '客户满意度', 'complaint_rate': '投诉率', 'complaint_resolution_24h': '24小时投诉解决率', 'repeat_purchase_rate': '复购率', 'key_account_nps': '重点客户净推荐值', 'response_sla_rate': '响应及时率', 'median_response_hours': '响应时长中位数', 'requirement_accuracy': '需求把握准确率', 'followup_completion': '回访完成率', 'referral_rate': '转介绍率'},
    }) }}
{%- endmacro %}

{#- language -> {value: unit -> text after a value, gap: unit -> text after a difference}. -#}
{% macro report_units() -%}
    {{ return({
        'en': {'value': {'%': ' %', 'points': ' points', 'h': ' h', 'count': ''}, 'gap': {'%': ' points', 'points': ' points', 'h': ' h', 'count': ''}},
        'zh-CN': {'value': {'%': '%', 'points': '分', 'h': '小时', 'count': ''}, 'gap': {'%': '个百分点', 'points': '分', 'h': '小时', 'count': ''}},
    }) }}
{%- endmacro %}

{#- language -> grade id -> its name, for the known ids (a scheme's own names are for the reports). -#}
{% macro grade_labels() -%}
    {{ return({
        'en': {'excellent': 'Excellent', 'good': 'Good', 'satisfactory': 'Satisfactory', 'fair': 'Fair', 'needs_improvement': 'Needs improvement', 'poor': 'Poor', 'insufficient_data': 'Insufficient data'},
        'zh-CN': {'excellent': '优秀', 'good': '良好', 'satisfactory': '合格', 'fair': '一般', 'needs_improvement': '待改进', 'poor': '较差', 'insufficient_data': '数据不足'},
    }) }}
{%- endmacro %}

{#- language -> anomaly rule id -> its name. -#}
{% macro rule_labels() -%}
    {{ return({
        'en': {'hidden_complaint': 'Hidden complaint', 'complaint_underreporting': 'Complaint under-reporting', 'inflated_self_report': 'Inflated self-report', 'channel_gap': 'Survey channel gap', 'self_filled_survey': 'Self-filled survey', 'speeder_burst': 'Speeder burst', 'fabricated_contact': 'Fabricated contact'},
        'zh-CN': {'hidden_complaint': '隐瞒投诉', 'complaint_underreporting': '投诉少报', 'inflated_self_report': '自报满意度虚高', 'channel_gap': '问卷渠道差异', 'self_filled_survey': '代填问卷', 'speeder_burst': '异常快速集中作答', 'fabricated_contact': '虚构客户接触'},
    }) }}
{%- endmacro %}

{#- language -> the generated sentences of the marts, `{name}` filled in by macros/report_text.sql. -#}
{% macro report_sentences() -%}
    {{ return({
        'en': {'feedback_strength': '{indicator}: {rank_ordinal} of {reps} in team ({value}{unit}; team median {median}{unit})', 'feedback_improvement': '{indicator}: {value}{unit} against a team median of {median}{unit}, {gap}{gap_unit} {side} ({rank_ordinal} of {reps} in team)', 'side_below': 'below', 'side_above': 'above', 'evidence_channel_gap': 'rep {rep} rep-distributed NPS {rd_nps} (n={rd_n}) vs third-party NPS {tp_nps} (n={tp_n}), one-sided z={z}, p{p} < {alpha}', 'evidence_complaint_underreporting': 'rep {rep} self-reported {reported} complaint(s) in {period} against {tickets} complaint tickets of customers of the rep (ratio {rep_ratio}), while peers reported {peer_ratio} per ticket ({peer_reported} of {peer_tickets}): expected {expected}, one-sided Poisson p{p} < {alpha}', 'evidence_inflated_self_report': 'rep {rep} mean claimed satisfaction {claimed} vs mean third-party csat {csat} over the {customers} customers who answered both in {period}: gap {gap} >= {min_gap} point(s) (at least {min_customers} customers)', 'evidence_self_filled_survey': 'response {response} (customer {customer}, {channel}, NPS {nps}) came from fingerprint {fingerprint}{device}{rep}; that fingerprint answered for {customers} different customer(s) of the rep ({customer_list}{more}; flagged from {min_customers} customers or a device match)', 'device_of_rep': ', a registered device of rep ', 'device_not_of_rep': ', not a device of rep ', 'unknown_customer_id': 'unknown', 'evidence_fabricated_contact': 'rep {rep} self-reported {contacts} contact(s) with customer {customer}{when} with no open deal and no closed deal, interaction, proposal or follow-up with that customer within {window} days; customer owner: {owner}; other activity of the rep with the customer: {other}', 'contact_on': ' on {date}', 'contact_between': ' between {first} and {last}', 'unknown_customer': 'unknown customer', 'activity_outside_window': 'only outside the window', 'activity_none': 'none at all', 'evidence_hidden_complaint': 'rep {rep} logged {kind}{claim} for customer {customer} on {contact_on}, {timing} complaint ticket {ticket} opened on {opened_on}{owner_note}; {positive_records} positive record(s) within {window} days of {tickets} complaint ticket(s), {not_logged} of them without a complaint record by the rep', 'kind_praise': 'praise', 'kind_neutral': 'neutral', 'kind_suggestion': 'suggestion', 'no_claim': ' (no claimed satisfaction)', 'claim': ' (claimed satisfaction {claimed})', 'timing_same_day': 'the day', 'timing_after': '{days} day(s) after', 'timing_before': '{days} day(s) before', 'attributed_to_owner': ' (no rep on the ticket: attributed to the owner)', 'evidence_speeder_burst': 'rep {rep} in {period}: {speed}{separator}{burst}; x {reps} reps compared in the period (Bonferroni): p{p} < {alpha}', 'speeders': '{speeders} top-score responses (NPS >= {top_nps}) faster than {share} x the median duration of their channel, of {timed} timed top-score responses; the peer share {peer_share}% gives {expected} expected, one-sided Poisson p{p}', 'burst': '{size} top-score responses within {minutes} minutes ({start} to {end} local) of {top} top scores in the period ({expected} expected per {window}-minute window), scan p{p}', 'separator': '; ', 'step_indicator': '{indicator} = {value}{unit} (sample {sample}) -> score {score} by {method}, x weight {weight} = {amount}', 'step_no_target': '{indicator}: no sales target in the period: left out of the composite (weight {weight} not covered)', 'step_no_events': '{indicator}: no events in the period: left out of the composite (weight {weight} not covered)', 'step_thin': '{indicator}: sample {sample} below the minimum {min_sample}: left out of the composite (weight {weight} not covered)', 'step_weighted_sum': 'sum of weight x score over the {n} counted indicators = {sum}', 'step_coverage': 'sum of their weights = {coverage} (minimum {minimum})', 'step_no_composite': 'no counted indicator: no composite', 'step_composite': 'weighted_sum / coverage = {composite}', 'step_progress_no_composite': 'no composite: no progress points', 'step_progress_no_previous': 'no previous composite: 0 progress points', 'step_progress': 'composite {composite} against {previous} in {previous_period}: change {change} -> {points} progress points ({per} per full {step} points risen, at most {max}, never negative)', 'step_adjustment': 'manager adjustments {raw}{relation}{points} points (at most +-{max})', 'adjustment_clamped': ' clamped to ', 'adjustment_equal': ' = ', 'step_not_graded': 'coverage below the minimum: not graded', 'step_final': 'round(composite + progress + adjustment{penalties} = {total}, 2), half-up = {final}', 'minus_penalties': ' - penalties', 'step_grade_lowest': '{grade}: the lowest band', 'step_grade': '{grade}: final score {final} reaches its minimum {minimum}', 'step_bonus_not_graded': 'no bonus coefficient when not graded', 'step_bonus_held': 'grade held: no bonus coefficient until every holding flag is decided', 'step_bonus': 'bonus coefficient of band {grade}: {bonus}', 'no_bonus': 'none', 'step_penalty': 'confirmed {rule} {flag}: -{points} points (outside the adjustment cap)', 'step_excluded': 'confirmed {rule} {flag}: {n} survey response(s) of rep {rep} excluded from nps, csat and key_account_nps', 'step_held': 'grade held: {n} open flag(s) awaiting review ({flags}{more}); no bonus coefficient until every one is decided', 'step_hidden_small': '{indicator}: hidden (anonymous survey, {sample} answers, fewer than {k}): left out of the composite', 'step_hidden_complementary': "{indicator}: hidden so that another subject's small survey sample cannot be worked out; left out of the composite"},
        'zh-CN': {'feedback_strength': '{indicator}：团队内第{rank}名，共{reps}人（{value}{unit}；团队中位数{median}{unit}）', 'feedback_improvement': '{indicator}：{value}{unit}，团队中位数{median}{unit}，{side}中位数{gap}{gap_unit}（团队内第{rank}名，共{reps}人）', 'side_below': '低于', 'side_above': '高于', 'evidence_channel_gap': '销售代表 {rep} 自发问卷的净推荐值 {rd_nps}（n={rd_n}），第三方问卷的净推荐值 {tp_nps}（n={tp_n}），单侧检验 z={z}，p{p} < {alpha}', 'evidence_complaint_underreporting': '销售代表 {rep} 在 {period} 自报投诉 {reported} 次，而其客户的投诉工单有 {tickets} 张（比例 {rep_ratio}）；同事每张工单自报 {peer_ratio} 次（{peer_tickets} 张中 {peer_reported} 次）：预期 {expected} 次，单侧泊松检验 p{p} < {alpha}', 'evidence_inflated_self_report': '销售代表 {rep} 自报满意度均值 {claimed}，而 {period} 两边都有评价的 {customers} 位客户的第三方满意度均值为 {csat}：差距 {gap} >= {min_gap} 分（至少 {min_customers} 位客户）', 'evidence_self_filled_survey': '问卷答复 {response}（客户 {customer}，{channel}，净推荐值打分 {nps}）来自设备指纹 {fingerprint}{device}{rep}；该指纹为该销售代表的 {customers} 位不同客户作答（{customer_list}{more}；达到 {min_customers} 位客户或与设备匹配即标记）', 'device_of_rep': '，是销售代表登记的设备：', 'device_not_of_rep': '，不是该销售代表的设备：', 'unknown_customer_id': '未知', 'evidence_fabricated_contact': '销售代表 {rep} 自报与客户 {customer} 接触 {contacts} 次{when}，但 {window} 天内与该客户既无进行中的商机，也无成交、互动、方案或回访记录；客户负责人：{owner}；该销售代表与该客户的其他往来：{other}', 'contact_on': '（{date}）', 'contact_between': '（{first} 至 {last}）', 'unknown_customer': '未知客户', 'activity_outside_window': '仅在时间窗口之外', 'activity_none': '完全没有', 'evidence_hidden_complaint': '销售代表 {rep} 于 {contact_on} 为客户 {customer} 记录了{kind}{claim}，在投诉工单 {ticket}（{opened_on} 提交）{timing}{owner_note}；{window} 天内有 {positive_records} 条正面记录、{tickets} 张投诉工单，其中 {not_logged} 张该销售代表没有记录投诉', 'kind_praise': '表扬', 'kind_neutral': '中性反馈', 'kind_suggestion': '建议', 'no_claim': '（未填满意度）', 'claim': '（自报满意度 {claimed}）', 'timing_same_day': '当天', 'timing_after': '之后 {days} 天', 'timing_before': '之前 {days} 天', 'attributed_to_owner': '（工单未填销售代表：归属客户负责人）', 'evidence_speeder_burst': '销售代表 {rep} 在 {period}：{speed}{separator}{burst}；共比较 {reps} 位销售代表（Bonferroni 校正）：p{p} < {alpha}', 'speeders': '{speeders} 份高分答复（NPS >= {top_nps}）用时短于其渠道中位用时的 {share} 倍（共 {timed} 份计时的高分答复）；按同事比例 {peer_share}% 预期 {expected} 份，单侧泊松检验 p{p}', 'burst': '{minutes} 分钟内有 {size} 份高分答复（当地时间 {start} 至 {end}），本期共 {top} 份高分答复（每 {window} 分钟窗口预期 {expected} 份），扫描统计检验 p{p}', 'separator': '；', 'step_indicator': '{indicator} = {value}{unit}（样本 {sample}）-> 按 {method} 计分 {score}，× 权重 {weight} = {amount}', 'step_no_target': '{indicator}：本考核期没有销售目标：不计入综合得分（权重 {weight} 未覆盖）', 'step_no_events': '{indicator}：本考核期没有相关事件：不计入综合得分（权重 {weight} 未覆盖）', 'step_thin': '{indicator}：样本 {sample} 低于最低要求 {min_sample}：不计入综合得分（权重 {weight} 未覆盖）', 'step_weighted_sum': '{n} 项计入指标的权重 × 得分之和 = {sum}', 'step_coverage': '其权重之和 = {coverage}（最低要求 {minimum}）', 'step_no_composite': '没有计入的指标：无综合得分', 'step_composite': '加权和 / 覆盖率 = {composite}', 'step_progress_no_composite': '无综合得分：无进步分', 'step_progress_no_previous': '无上期综合得分：进步分为 0', 'step_progress': '综合得分 {composite}，{previous_period} 为 {previous}：变化 {change} -> 进步分 {points}（每提高 {step} 分得 {per} 分，最多 {max} 分，不为负）', 'step_adjustment': '经理调整 {raw}{relation}{points} 分（最多 +-{max}）', 'adjustment_clamped': ' 截断为 ', 'adjustment_equal': ' = ', 'step_not_graded': '覆盖率低于最低要求：不评级', 'step_final': 'round(综合得分 + 进步分 + 调整分{penalties} = {total}, 2)，四舍五入 = {final}', 'minus_penalties': ' - 扣分', 'step_grade_lowest': '{grade}：最低档', 'step_grade': '{grade}：最终得分 {final} 达到该档下限 {minimum}', 'step_bonus_not_graded': '未评级：无奖金系数', 'step_bonus_held': '评级暂缓：所有暂缓标记审核完成前无奖金系数', 'step_bonus': '{grade} 档的奖金系数：{bonus}', 'no_bonus': '无', 'step_penalty': '已确认 {rule} {flag}：-{points} 分（不受调整上限限制）', 'step_excluded': '已确认 {rule} {flag}：销售代表 {rep} 的 {n} 份问卷答复已从净推荐值、客户满意度和重点客户净推荐值中剔除', 'step_held': '评级暂缓：{n} 个标记待审核（{flags}{more}）；全部审核完成前无奖金系数', 'step_hidden_small': '{indicator}：已隐藏（匿名问卷，{sample} 份答复，少于 {k} 份）：不计入综合得分', 'step_hidden_complementary': '{indicator}：已隐藏，以免推算出其他对象的小样本问卷数据；不计入综合得分'},
    }) }}
{%- endmacro %}
