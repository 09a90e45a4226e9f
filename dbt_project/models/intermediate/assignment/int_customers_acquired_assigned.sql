-- Customers assigned to the evaluated period of acquired_on and to their owner rep.
with

customers as (

    select * from {{ ref('stg_crm__customers') }}

),

reps as (

    select * from {{ ref('stg_crm__reps') }}

),

periods as (

    select * from {{ ref('int_periods_refreshed') }}

),

final as (

    select
        periods.period,
        customers.customer_id,
        customers.owner_rep_id as rep_id,
        reps.team_id,
        customers.acquisition_channel,
        customers.acquisition_channel = 'referral' as is_referral
    from customers
    inner join periods
        on {{ period_label('customers.acquired_on') }} = periods.period
    left join reps
        on customers.owner_rep_id = reps.rep_id

)

select * from final
