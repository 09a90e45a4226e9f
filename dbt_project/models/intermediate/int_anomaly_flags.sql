-- The flags of the seven anomaly rules of SCORING.md in one table, with the rep's current team and a
-- flag_id that is stable across re-runs: the hash of rule_id, rep_id, period and the customer_id /
-- response_id the flag is about (empty when the flag is about the rep's whole period).
{%- set rule_models = [
    'int_anomaly_hidden_complaint',
    'int_anomaly_complaint_underreporting',
    'int_anomaly_inflated_self_report',
    'int_anomaly_channel_gap',
    'int_anomaly_self_filled_survey',
    'int_anomaly_speeder_burst',
    'int_anomaly_fabricated_contact',
] %}

with

{% for rule_model in rule_models %}
{{ rule_model | replace('int_anomaly_', '') }} as (

    select
        period,
        rep_id,
        customer_id,
        response_id,
        rule_id,
        severity,
        cast(strength as {{ type_double() }}) as strength,
        evidence
    from {{ ref(rule_model) }}

),

{% endfor %}
unioned as (

    {% for rule_model in rule_models %}
    select * from {{ rule_model | replace('int_anomaly_', '') }}
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

reps as (

    select * from {{ ref('stg_crm__reps') }}

),

final as (

    select
        {{ dbt.hash(dbt.concat([
            'unioned.rule_id', "'|'", 'unioned.rep_id', "'|'", 'unioned.period', "'|'",
            "coalesce(unioned.customer_id, '')", "'|'", "coalesce(unioned.response_id, '')",
        ])) }} as flag_id,
        unioned.period,
        unioned.rep_id,
        reps.team_id,
        unioned.customer_id,
        unioned.response_id,
        unioned.rule_id,
        unioned.severity,
        unioned.strength,
        unioned.evidence
    from unioned
    left join reps
        on unioned.rep_id = reps.rep_id

)

select * from final
