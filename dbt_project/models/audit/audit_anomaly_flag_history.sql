{{ config(
    materialized='incremental',
    unique_key='flag_id',
    alias='anomaly_flag_history',
    full_refresh=false,
    on_schema_change='append_new_columns',
) }}
-- When each anomaly flag was first seen: one row per flag_id ever raised, written once, by the run in
-- which it first appeared (var run_id, passed by the orchestration; 'manual' for a standalone dbt
-- run). Incremental and never rebuilt by --full-refresh, so the history survives re-runs; a flag that
-- later disappears (the data changed) keeps its row.
-- depends_on: {{ ref('stg_cfg__closed_periods') }} (the refresh window, macros/refresh_window.sql)
with

flags as (

    select * from {{ ref('int_anomaly_flags') }}

),

{% if is_incremental() %}
seen as (

    select flag_id from {{ this }}

),

new_flags as (

    select flags.*
    from flags
    left join seen
        on flags.flag_id = seen.flag_id
    where seen.flag_id is null
        -- only the run's refresh window is published: a flag of a closed period is first seen
        -- when the period is reopened and rebuilt (macros/refresh_window.sql)
        and {{ in_refresh_window('flags.period') }}

),
{% else %}
new_flags as (

    select * from flags

),
{% endif %}

final as (

    select
        flag_id,
        rule_id,
        rep_id,
        period,
        customer_id,
        response_id,
        {{ dbt.string_literal(run_value('run_id', 'manual') | string | replace("'", "''")) }} as first_run_id,
        {{ dbt.current_timestamp() }} as first_seen_at
    from new_flags

)

select * from final
