-- Closed (won or lost) deals assigned to the evaluated period of closed_on and to the deal's rep,
-- with whether the customer already had a won deal closed before the period started (any rep).
with

deals as (

    select * from {{ ref('stg_crm__deals') }}
    where closed_on is not null
        and stage in ('won', 'lost')

),

periods as (

    select * from {{ ref('int_periods_refreshed') }}

),

reps as (

    select * from {{ ref('stg_crm__reps') }}

),

won_deals as (

    select customer_id, closed_on
    from deals
    where stage = 'won'

),

assigned as (

    select
        periods.period,
        periods.period_start,
        deals.deal_id,
        deals.rep_id,
        reps.team_id,
        deals.customer_id,
        deals.stage,
        deals.stage = 'won' as is_won,
        deals.closed_on,
        deals.amount_base,
        deals.collected_amount_base
    from deals
    inner join periods
        on {{ period_label('deals.closed_on') }} = periods.period
    left join reps
        on deals.rep_id = reps.rep_id

),

final as (

    select
        assigned.*,
        exists (
            select 1
            from won_deals
            where won_deals.customer_id = assigned.customer_id
                and won_deals.closed_on < assigned.period_start
        ) as customer_had_earlier_won_deal
    from assigned

)

select * from final
