-- One row per event (or customer) behind an indicator, attributed to a period and a rep (and the rep's
-- current team): what it adds to the numerator and to the denominator and whether it counts in the
-- sample size. unit_id identifies the unit counted: an event id, or a customer id for the indicators
-- that count distinct customers (complaint_rate, repeat_purchase_rate), so that a customer seen by
-- several reps of a team counts once at team and company level.
-- pending = 1 for an event of an indicator with a limit (complaint_resolution_24h, response_sla_rate,
-- followup_completion) that is still pending at as-of (not yet resolved / answered / completed, limit
-- not run out: int_tickets_assigned, int_interactions_assigned, int_followups_assigned): it adds
-- nothing to the numerator, the denominator or the sample size, only to indicator_values.pending.
-- Survey responses behind a confirmed flag whose rule's policy is exclude_responses are left out of
-- nps, csat and key_account_nps (int_excluded_responses, audit.excluded_responses).
{%- set num = 'cast(%s as decimal(38, 6))' %}

with

deals as (

    select * from {{ ref('int_deals_assigned') }}

),

targets as (

    select * from {{ ref('int_targets_resolved') }}

),

excluded_responses as (

    -- behind a confirmed flag of a response rule whose policy is exclude_responses
    select distinct response_id from {{ ref('int_excluded_responses') }}

),

responses as (

    select assigned.*
    from {{ ref('int_survey_responses_assigned') }} as assigned
    left join excluded_responses
        on assigned.response_id = excluded_responses.response_id
    where assigned.is_counted_channel
        and excluded_responses.response_id is null

),

tickets as (

    select * from {{ ref('int_tickets_assigned') }}

),

interactions as (

    select * from {{ ref('int_interactions_assigned') }}

),

proposals as (

    select * from {{ ref('int_proposals_assigned') }}

),

followups as (

    select * from {{ ref('int_followups_assigned') }}

),

acquired as (

    select * from {{ ref('int_customers_acquired_assigned') }}

),

periods as (

    select * from {{ ref('int_periods_refreshed') }}

),

sales_attainment as (

    select
        period, rep_id, team_id, 'sales_attainment' as indicator, deal_id as unit_id,
        {{ num % 'amount_base' }} as numerator_value,
        {{ num % 'null' }} as denominator_value,
        1 as in_sample
    from deals
    where is_won

    union all

    select
        targets.period, targets.rep_id, targets.team_id, 'sales_attainment', {{ dbt.concat(["'target:'", 'targets.rep_id']) }},
        {{ num % 'null' }},
        {{ num % 'targets.sales_target' }},
        0
    from targets
    inner join periods
        on targets.period = periods.period

),

collection_rate as (

    select
        period, rep_id, team_id, 'collection_rate' as indicator, deal_id as unit_id,
        {{ num % 'coalesce(collected_amount_base, 0)' }} as numerator_value,
        {{ num % 'amount_base' }} as denominator_value,
        1 as in_sample
    from deals
    where is_won

),

new_customers as (

    select
        period, rep_id, team_id, 'new_customers' as indicator, customer_id as unit_id,
        {{ num % '1' }} as numerator_value,
        {{ num % 'null' }} as denominator_value,
        1 as in_sample
    from acquired

),

referral_rate as (

    select
        period, rep_id, team_id, 'referral_rate' as indicator, customer_id as unit_id,
        {{ num % 'case when is_referral then 1 else 0 end' }} as numerator_value,
        {{ num % '1' }} as denominator_value,
        1 as in_sample
    from acquired

),

survey_nps as (

    select
        period, rep_id, team_id, is_key_account, response_id as unit_id,
        {{ num % 'case when is_promoter then 1 when is_detractor then -1 else 0 end' }} as numerator_value,
        {{ num % '1' }} as denominator_value,
        1 as in_sample,
        case when is_promoter then 1 else 0 end as promoter_count,
        case when is_detractor then 1 else 0 end as detractor_count
    from responses

),

csat as (

    select
        period, rep_id, team_id, 'csat' as indicator, response_id as unit_id,
        {{ num % 'case when csat >= 4 then 1 else 0 end' }} as numerator_value,
        {{ num % '1' }} as denominator_value,
        1 as in_sample
    from responses
    where csat is not null

),

customers_served as (

    select period, rep_id, team_id, customer_id from deals
    union all
    select period, rep_id, team_id, customer_id from interactions
    union all
    select period, rep_id, team_id, customer_id from followups
    union all
    select period, rep_id, team_id, customer_id from proposals
    union all
    -- a complaint is itself a contact with the customer: without this, a customer who complains in
    -- a period without other touch points would make the rate exceed 100 % (docs/decisions.md)
    select period, rep_id, team_id, customer_id from tickets
    where is_complaint

),

complaint_rate as (

    select distinct
        period, rep_id, team_id, 'complaint_rate' as indicator, customer_id as unit_id,
        {{ num % '0' }} as numerator_value,
        {{ num % '1' }} as denominator_value,
        1 as in_sample
    from customers_served

    union all

    select distinct
        period, rep_id, team_id, 'complaint_rate', customer_id,
        {{ num % '1' }},
        {{ num % 'null' }},
        0
    from tickets
    where is_complaint

),

complaint_resolution as (

    select
        period, rep_id, team_id, 'complaint_resolution_24h' as indicator, ticket_id as unit_id,
        {{ num % 'case when is_resolution_pending then null when is_resolved_in_time then 1 else 0 end' }}
            as numerator_value,
        {{ num % 'case when is_resolution_pending then null else 1 end' }} as denominator_value,
        case when is_resolution_pending then 0 else 1 end as in_sample,
        case when is_resolution_pending then 1 else 0 end as pending
    from tickets
    where is_complaint

),

repeat_purchase as (

    select distinct
        period, rep_id, team_id, 'repeat_purchase_rate' as indicator, customer_id as unit_id,
        {{ num % 'case when customer_had_earlier_won_deal then 1 else 0 end' }} as numerator_value,
        {{ num % '1' }} as denominator_value,
        1 as in_sample
    from deals
    where is_won

),

response_sla as (

    select
        period, rep_id, team_id, 'response_sla_rate' as indicator, interaction_id as unit_id,
        {{ num % 'case when is_sla_pending then null when is_within_sla then 1 else 0 end' }} as numerator_value,
        {{ num % 'case when is_sla_pending then null else 1 end' }} as denominator_value,
        case when is_sla_pending then 0 else 1 end as in_sample,
        case when is_sla_pending then 1 else 0 end as pending
    from interactions

),

requirement_accuracy as (

    select
        period, rep_id, team_id, 'requirement_accuracy' as indicator, proposal_id as unit_id,
        {{ num % 'case when is_fully_meeting then 1 else 0 end' }} as numerator_value,
        {{ num % '1' }} as denominator_value,
        1 as in_sample
    from proposals
    where has_verdict

),

followup_completion as (

    select
        period, rep_id, team_id, 'followup_completion' as indicator, followup_id as unit_id,
        {{ num % 'case when is_completion_pending then null when is_completed_in_time then 1 else 0 end' }}
            as numerator_value,
        {{ num % 'case when is_completion_pending then null else 1 end' }} as denominator_value,
        case when is_completion_pending then 0 else 1 end as in_sample,
        case when is_completion_pending then 1 else 0 end as pending
    from followups

),

counted as (

    {%- set with_limit = ['complaint_resolution', 'response_sla', 'followup_completion'] %}
    {%- for cte in ['sales_attainment', 'collection_rate', 'new_customers', 'referral_rate', 'csat',
                    'complaint_rate', 'complaint_resolution', 'repeat_purchase', 'response_sla',
                    'requirement_accuracy', 'followup_completion'] %}
    select
        period, rep_id, team_id, indicator, unit_id, numerator_value, denominator_value, in_sample,
        0 as promoter_count, 0 as detractor_count, cast(null as {{ type_double() }}) as response_hours,
        {{ 'pending' if cte in with_limit else '0' }} as pending
    from {{ cte }}
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}

),

nps as (

    select
        period, rep_id, team_id, 'nps' as indicator, unit_id, numerator_value, denominator_value, in_sample,
        promoter_count, detractor_count, cast(null as {{ type_double() }}) as response_hours, 0 as pending
    from survey_nps

    union all

    select
        period, rep_id, team_id, 'key_account_nps', unit_id, numerator_value, denominator_value, in_sample,
        promoter_count, detractor_count, cast(null as {{ type_double() }}), 0
    from survey_nps
    where is_key_account

),

median_response as (

    select
        period, rep_id, team_id, 'median_response_hours' as indicator, interaction_id as unit_id,
        {{ num % 'null' }} as numerator_value,
        {{ num % '1' }} as denominator_value,
        1 as in_sample,
        0 as promoter_count,
        0 as detractor_count,
        cast(response_hours as {{ type_double() }}) as response_hours,
        0 as pending
    from interactions
    where is_answered

),

final as (

    select * from counted
    union all
    select * from nps
    union all
    select * from median_response

)

select * from final
