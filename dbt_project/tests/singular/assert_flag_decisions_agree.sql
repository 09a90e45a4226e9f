-- The decisions that decide the excluded responses (int_response_flag_decisions, checked against the
-- response rules' flags only) agree with the decisions of every flag (int_flag_decisions) on every
-- flag of a response rule: the same decision is effective, or none in both.
with

response_rules as (

    select flag_id, decision_id from {{ ref('int_response_flag_decisions') }}
    where is_effective

),

every_rule as (

    select decisions.flag_id, decisions.decision_id
    from {{ ref('int_flag_decisions') }} as decisions
    inner join {{ ref('int_anomaly_response_flags') }} as flags
        on decisions.flag_id = flags.flag_id
    where decisions.is_effective

)

select
    coalesce(response_rules.flag_id, every_rule.flag_id) as flag_id,
    response_rules.decision_id as response_rule_decision,
    every_rule.decision_id as every_rule_decision
from response_rules
full outer join every_rule
    on response_rules.flag_id = every_rule.flag_id
where response_rules.decision_id is distinct from every_rule.decision_id
