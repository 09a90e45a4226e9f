-- Survey responses of every channel with what the anomaly rules need beside the indicator inputs of
-- int_survey_responses_assigned (period of responded_at, invitation rep and channel): the local
-- response time, the respondent's fingerprint (empty text is no fingerprint), the duration, and
-- whether the answer is a top score (nps >= anomalies.speeder_burst.top_nps, default 9: a promoter).
with

assigned as (

    select * from {{ ref('int_survey_responses_assigned') }}

),

responses as (

    select * from {{ ref('stg_survey__responses') }}

),

final as (

    select
        assigned.period,
        assigned.response_id,
        assigned.invitation_id,
        assigned.rep_id,
        assigned.team_id,
        assigned.customer_id,
        assigned.channel,
        assigned.nps,
        assigned.csat,
        assigned.is_promoter,
        assigned.is_detractor,
        assigned.nps >= {{ anomaly_setting('speeder_burst', 'top_nps') }} as is_top_score,
        responses.responded_at_utc,
        responses.responded_at_local,
        case
            when trim(responses.respondent_fingerprint) = '' then null
            else responses.respondent_fingerprint
        end as respondent_fingerprint,
        responses.duration_seconds
    from assigned
    inner join responses
        on assigned.response_id = responses.response_id

)

select * from final
