{{ config(
    materialized='incremental',
    unique_key='decision_id',
    alias='flag_reviews',
    full_refresh=false,
    on_schema_change='append_new_columns',
) }}
-- audit.flag_reviews: every accepted decision on an anomaly flag ever landed, append-only (SCORING.md
-- "From flag to decision"): one row per decision_id, written once, by the run that first accepted it
-- (var run_id), never rebuilt (full_refresh disabled, no refresh-window delete: a decision about a flag
-- of a closed period is kept at once and takes effect when the period is reopened). Which decision
-- counts now is marts.anomaly_flags (decision_id); rejected ones are in audit.quarantine.
with

decisions as (

    select * from {{ ref('int_flag_decisions') }}
    where is_accepted

),

{% if is_incremental() %}
seen as (

    select decision_id from {{ this }}

),

new_decisions as (

    select decisions.*
    from decisions
    left join seen
        on decisions.decision_id = seen.decision_id
    where seen.decision_id is null

),
{% else %}
new_decisions as (

    select * from decisions

),
{% endif %}

final as (

    select
        decision_id,
        flag_id,
        decision,
        reviewer,
        decided_at_utc as decided_at,
        reason,
        rule_id,
        rep_id,
        period,
        source_file,
        source_row,
        {{ dbt.string_literal(run_value('run_id', 'manual') | string | replace("'", "''")) }} as first_run_id,
        {{ dbt.current_timestamp() }} as recorded_at
    from new_decisions

)

select * from final
