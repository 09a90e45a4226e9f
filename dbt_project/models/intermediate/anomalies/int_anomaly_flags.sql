-- The flags of the seven anomaly rules of SCORING.md in one table, with the rep's current team and a
-- flag_id that is stable across re-runs (macros/flag_reviews.sql anomaly_flag_id: the hash of rule_id,
-- rep_id, period and the customer_id / response_id the flag is about, empty when the flag is about the
-- rep's whole period). The response rules come with their ids from int_anomaly_response_flags.
-- Kept by period (dbt_project.yml): a run rebuilds the rows of its refresh window and keeps the other
-- periods' rows, so that every flag stays known to the review decisions and `scorecard review`.
-- depends_on: {{ ref('stg_cfg__closed_periods') }} (the refresh window, macros/refresh_window.sql)
{%- set rule_models = [
    'int_anomaly_hidden_complaint',
    'int_anomaly_complaint_underreporting',
    'int_anomaly_inflated_self_report',
    'int_anomaly_channel_gap',
    'int_anomaly_fabricated_contact',
] %}

with

unioned as (

    {{ anomaly_flag_rows(rule_models) }}
    union all
    select flag_id, period, rep_id, customer_id, response_id, rule_id, severity, strength, evidence
    from {{ ref('int_anomaly_response_flags') }}

),

reps as (

    select * from {{ ref('stg_crm__reps') }}

),

final as (

    select
        unioned.flag_id,
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
{{ refresh_window_filter() }}
