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

{#- language -> the generated sentences of the marts, `{name}` filled in by macros/report_text.sql. -#}
{% macro report_sentences() -%}
    {{ return({
        'en': {'feedback_strength': '{indicator}: {rank_ordinal} of {reps} in team ({value}{unit}; team median {median}{unit})', 'feedback_improvement': '{indicator}: {value}{unit} against a team median of {median}{unit}, {gap}{gap_unit} {side} ({rank_ordinal} of {reps} in team)', 'side_below': 'below', 'side_above': 'above'},
        'zh-CN': {'feedback_strength': '{indicator}：团队内第{rank}名，共{reps}人（{value}{unit}；团队中位数{median}{unit}）', 'feedback_improvement': '{indicator}：{value}{unit}，团队中位数{median}{unit}，{side}中位数{gap}{gap_unit}（团队内第{rank}名，共{reps}人）', 'side_below': '低于', 'side_above': '高于'},
    }) }}
{%- endmacro %}
