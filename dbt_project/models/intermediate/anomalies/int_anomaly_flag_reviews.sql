-- Each anomaly flag with its review (SCORING.md "From flag to decision"): review_status from its
-- effective decision (open without one), its rule's policy, whether it holds its subject's grade (open
-- and on_open = hold), the responses behind it and those it takes out of the survey figures (confirmed,
-- on_confirm = exclude_responses), and the points it takes off (confirmed, on_confirm = penalty).
with

flags as (

    select * from {{ ref('int_anomaly_flags') }}

),

decisions as (

    select * from {{ ref('int_flag_decisions') }}
    where is_effective

),

policy as (

    select * from {{ ref('int_anomaly_policy') }}

),

behind as (

    select flag_id, count(*) as flagged_responses
    from {{ ref('int_anomaly_flag_responses') }}
    group by flag_id

),

excluded as (

    select flag_id, count(*) as excluded_responses
    from {{ ref('int_excluded_responses') }}
    group by flag_id

),

final as (

    select
        flags.*,
        coalesce(decisions.decision, 'open') as review_status,
        decisions.reviewer as reviewed_by,
        decisions.decided_at_utc as decided_at,
        decisions.reason as review_reason,
        decisions.decision_id,
        policy.on_open,
        policy.on_confirm,
        decisions.decision_id is null and policy.on_open = 'hold' as is_holding,
        coalesce(behind.flagged_responses, 0) as flagged_responses,
        coalesce(excluded.excluded_responses, 0) as excluded_responses,
        cast(
            case when decisions.decision = 'confirmed' then policy.penalty_points else 0 end as decimal(18, 2)
        ) as penalty_points,
        policy.indicators
    from flags
    left join decisions
        on flags.flag_id = decisions.flag_id
    left join policy
        on flags.rule_id = policy.rule_id
    left join behind
        on flags.flag_id = behind.flag_id
    left join excluded
        on flags.flag_id = excluded.flag_id

)

select * from final
