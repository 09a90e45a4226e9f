{{ config(alias="excluded_responses") }}
-- audit.excluded_responses: each survey response left out of nps, csat and key_account_nps (and the
-- survey baselines of the anomaly rules) because a flag about it is confirmed and its rule's policy is
-- exclude_responses (int_excluded_responses), with the flag, the decision and the response's figures.
-- Per period of the flag, rebuilt with the refresh window like the marts: a later dismissal puts the
-- response back in the open periods; a closed period keeps what was published.
-- depends_on: {{ ref('stg_cfg__closed_periods') }} (the refresh window, macros/refresh_window.sql)
with

excluded as (

    select * from {{ ref('int_excluded_responses') }}

),

responses as (

    select * from {{ ref('int_anomaly_survey_responses') }}

),

final as (

    select
        excluded.response_id,
        excluded.flag_id,
        excluded.decided_at,
        excluded.decision_id,
        excluded.rule_id,
        excluded.rep_id,
        excluded.flag_period as period,
        responses.period as response_period,
        responses.channel,
        responses.nps,
        responses.csat,
        {{ dbt.string_literal(run_value('run_id', 'manual') | string | replace("'", "''")) }} as run_id
    from excluded
    left join responses
        on excluded.response_id = responses.response_id

)

select * from final
{{ refresh_window_filter() }}
