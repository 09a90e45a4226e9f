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
