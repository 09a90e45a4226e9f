-- Sales target of each rep per period of var('grain').
-- month grain: monthly targets only. quarter grain: an explicit YYYY-Qn target wins over the sum of
-- that quarter's YYYY-MM targets. year grain: an explicit YYYY target wins over the sum of the
-- year's quarters (each resolved as above).
with

targets as (

    select
        period as target_period,
        rep_id,
        sales_target,
        case
            when length(period) = 4 then 'year'
            when substring(period, 6, 1) = 'Q' then 'quarter'
            else 'month'
        end as target_grain,
        {{ period_label_start('period') }} as target_start
    from {{ ref('stg_crm__targets') }}

),

reps as (

    select * from {{ ref('stg_crm__reps') }}

),

monthly as (

    select
        target_period as period,
        rep_id,
        sales_target
    from targets
    where target_grain = 'month'

),

quarter_from_months as (

    select
        {{ period_label('target_start', 'quarter') }} as period,
        rep_id,
        sum(sales_target) as sales_target
    from targets
    where target_grain = 'month'
    group by 1, 2

),

quarter_explicit as (

    select
        target_period as period,
        rep_id,
        sales_target
    from targets
    where target_grain = 'quarter'

),

quarterly as (

    select
        coalesce(quarter_explicit.period, quarter_from_months.period) as period,
        coalesce(quarter_explicit.rep_id, quarter_from_months.rep_id) as rep_id,
        coalesce(quarter_explicit.sales_target, quarter_from_months.sales_target) as sales_target
    from quarter_explicit
    full outer join quarter_from_months
        on quarter_explicit.period = quarter_from_months.period
        and quarter_explicit.rep_id = quarter_from_months.rep_id

),

year_from_quarters as (

    select
        substring(period, 1, 4) as period,
        rep_id,
        sum(sales_target) as sales_target
    from quarterly
    group by 1, 2

),

year_explicit as (

    select
        target_period as period,
        rep_id,
        sales_target
    from targets
    where target_grain = 'year'

),

yearly as (

    select
        coalesce(year_explicit.period, year_from_quarters.period) as period,
        coalesce(year_explicit.rep_id, year_from_quarters.rep_id) as rep_id,
        coalesce(year_explicit.sales_target, year_from_quarters.sales_target) as sales_target
    from year_explicit
    full outer join year_from_quarters
        on year_explicit.period = year_from_quarters.period
        and year_explicit.rep_id = year_from_quarters.rep_id

),

resolved as (

    {%- set grain = evaluation_grain() %}
    select * from {{ 'monthly' if grain == 'month' else ('quarterly' if grain == 'quarter' else 'yearly') }}

),

final as (

    select
        resolved.period,
        resolved.rep_id,
        reps.team_id,
        cast(resolved.sales_target as decimal(38, 6)) as sales_target
    from resolved
    left join reps
        on resolved.rep_id = reps.rep_id

)

select * from final
