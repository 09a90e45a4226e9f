-- Responses that leave nps, csat and key_account_nps at every level and the survey baselines of the
-- anomaly rules (channel_gap, inflated_self_report): the responses behind a flag whose effective
-- decision is `confirmed` and whose rule's policy is on_confirm: exclude_responses. One row per
-- response and flag (a response behind two confirmed flags is excluded once from every figure).
with

decisions as (

    select * from {{ ref('int_response_flag_decisions') }}
    where is_effective
        and decision = 'confirmed'

),

policy as (

    select * from {{ ref('int_anomaly_policy') }}
    where on_confirm = 'exclude_responses'

),

behind as (

    select * from {{ ref('int_anomaly_flag_responses') }}

),

final as (

    select
        behind.response_id,
        behind.flag_id,
        decisions.decided_at_utc as decided_at,
        decisions.decision_id,
        behind.rule_id,
        behind.rep_id,
        behind.period as flag_period
    from behind
    inner join decisions
        on behind.flag_id = decisions.flag_id
    inner join policy
        on behind.rule_id = policy.rule_id

)

select * from final
