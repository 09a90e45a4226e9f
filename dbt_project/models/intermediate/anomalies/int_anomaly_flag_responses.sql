-- The responses behind each flag of a response rule: for self_filled_survey the flagged response; for
-- speeder_burst the rep's top-score speeders of the period when the speed criterion triggered and the
-- top scores of the largest burst (from its first response, within burst_minutes, the window of
-- int_anomaly_speeder_burst) when the burst criterion did. A confirmed flag whose rule's policy is
-- exclude_responses takes exactly these out of the survey figures (int_excluded_responses).
-- Kept by period (dbt_project.yml): a run rebuilds the rows of its refresh window and keeps the other
-- periods' rows, so that every flag stays known to the review decisions and `scorecard review`.
-- depends_on: {{ ref('stg_cfg__closed_periods') }} (the refresh window, macros/refresh_window.sql)
{%- set burst_minutes = anomaly_setting('speeder_burst', 'burst_minutes') %}

with

flags as (

    select * from {{ ref('int_anomaly_response_flags') }}

),

speeder_flags as (

    select * from {{ ref('int_anomaly_speeder_burst') }}

),

marked as (

    select * from {{ ref('int_anomaly_speeder_marked') }}
    where is_top_score

),

self_filled as (

    select flag_id, response_id
    from flags
    where rule_id = 'self_filled_survey'

),

speeders as (

    select
        speeder_flags.period,
        speeder_flags.rep_id,
        marked.response_id
    from speeder_flags
    inner join marked
        on speeder_flags.rep_id = marked.rep_id
        and speeder_flags.period = marked.period
    where speeder_flags.is_speed_hit
        and marked.is_speeder

),

bursts as (

    select
        speeder_flags.period,
        speeder_flags.rep_id,
        marked.response_id
    from speeder_flags
    inner join marked
        on speeder_flags.rep_id = marked.rep_id
        and marked.responded_at_utc >= speeder_flags.burst_start_utc
        and marked.responded_at_utc <= {{ dbt.dateadd('minute', burst_minutes, 'speeder_flags.burst_start_utc') }}
    where speeder_flags.is_burst_hit

),

speeder_responses as (

    select distinct
        flags.flag_id,
        behind.response_id
    from (
        select * from speeders
        union all
        select * from bursts
    ) as behind
    inner join flags
        on flags.rule_id = 'speeder_burst'
        and flags.rep_id = behind.rep_id
        and flags.period = behind.period

),

unioned as (

    select * from self_filled
    union all
    select * from speeder_responses

),

final as (

    select
        unioned.flag_id,
        unioned.response_id,
        flags.rule_id,
        flags.rep_id,
        flags.period
    from unioned
    inner join flags
        on unioned.flag_id = flags.flag_id

)

select * from final
{{ refresh_window_filter() }}
