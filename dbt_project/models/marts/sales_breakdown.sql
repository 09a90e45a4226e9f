-- Won amount (base currency) per evaluated period x region x product line x new/existing customer,
-- against target.
--   region         the region of the selling rep's team (crm/teams.region; 'unassigned' when the rep
--                  has no known team). Targets belong to reps and reps to teams, so a region's target
--                  is the sum of the targets of its teams' reps, exactly as team sales_attainment sums
--                  them; the customer's own region is not used.
--   customer_type  new: the customer was acquired in the deal's period (acquired_on on or after the
--                  period's first day, as the new_customers indicator counts them); existing: acquired
--                  before it; unknown: the customer is not in crm/customers.
-- Levels: cell (region x product_line x customer_type), region (product_line and customer_type NULL)
-- and company (region NULL too). A target is given per rep with no product or customer split, so it is
-- not divided among cells: a cell carries its region's target and its contribution to it
-- (target_contribution = won / region target x 100; a region's cells add up to its attainment).
-- Regions with a target and no won deal have a region row only.
-- depends_on: {{ ref('stg_cfg__closed_periods') }} (the refresh window, macros/refresh_window.sql)
with

deals as (

    select * from {{ ref('int_deals_assigned') }}
    where is_won

),

deal_lines as (

    select deal_id, product_line from {{ ref('stg_crm__deals') }}

),

customers as (

    select * from {{ ref('stg_crm__customers') }}

),

teams as (

    select * from {{ ref('stg_crm__teams') }}

),

targets as (

    select * from {{ ref('int_targets_resolved') }}

),

periods as (

    select * from {{ ref('int_periods_refreshed') }}

),

won as (

    select
        deals.period,
        coalesce(teams.region, 'unassigned') as region,
        deal_lines.product_line,
        case
            when customers.acquired_on is null then 'unknown'
            when customers.acquired_on >= periods.period_start then 'new'
            else 'existing'
        end as customer_type,
        deals.deal_id,
        deals.customer_id,
        deals.amount_base
    from deals
    inner join periods
        on deals.period = periods.period
    left join deal_lines
        on deals.deal_id = deal_lines.deal_id
    left join customers
        on deals.customer_id = customers.customer_id
    left join teams
        on deals.team_id = teams.team_id

),

region_targets as (

    select
        targets.period,
        coalesce(teams.region, 'unassigned') as region,
        sum(targets.sales_target) as target
    from targets
    inner join periods
        on targets.period = periods.period
    left join teams
        on targets.team_id = teams.team_id
    group by targets.period, coalesce(teams.region, 'unassigned')

),

cells as (

    select
        period,
        'cell' as level,
        region,
        product_line,
        customer_type,
        sum(amount_base) as won_amount,
        count(*) as won_deals,
        count(distinct customer_id) as customers
    from won
    group by period, region, product_line, customer_type

),

region_won as (

    select
        period,
        region,
        sum(amount_base) as won_amount,
        count(*) as won_deals,
        count(distinct customer_id) as customers
    from won
    group by period, region

),

regions as (

    select
        coalesce(region_won.period, region_targets.period) as period,
        'region' as level,
        coalesce(region_won.region, region_targets.region) as region,
        cast(null as {{ dbt.type_string() }}) as product_line,
        cast(null as {{ dbt.type_string() }}) as customer_type,
        coalesce(region_won.won_amount, 0) as won_amount,
        coalesce(region_won.won_deals, 0) as won_deals,
        coalesce(region_won.customers, 0) as customers,
        region_targets.target
    from region_won
    full outer join region_targets
        on region_won.period = region_targets.period
        and region_won.region = region_targets.region

),

company_won as (

    select
        period,
        sum(amount_base) as won_amount,
        count(*) as won_deals,
        count(distinct customer_id) as customers
    from won
    group by period

),

company_targets as (

    select period, sum(target) as target
    from region_targets
    group by period

),

company as (

    select
        coalesce(company_won.period, company_targets.period) as period,
        'company' as level,
        cast(null as {{ dbt.type_string() }}) as region,
        cast(null as {{ dbt.type_string() }}) as product_line,
        cast(null as {{ dbt.type_string() }}) as customer_type,
        coalesce(company_won.won_amount, 0) as won_amount,
        coalesce(company_won.won_deals, 0) as won_deals,
        coalesce(company_won.customers, 0) as customers,
        company_targets.target
    from company_won
    full outer join company_targets
        on company_won.period = company_targets.period

),

unioned as (

    select
        cells.period,
        cells.level,
        cells.region,
        cells.product_line,
        cells.customer_type,
        cells.won_amount,
        cells.won_deals,
        cells.customers,
        cast(null as decimal(38, 6)) as target,
        regions.target as region_target,
        regions.won_amount as region_won_amount
    from cells
    inner join regions
        on cells.period = regions.period
        and cells.region = regions.region

    union all

    select
        period, level, region, product_line, customer_type, won_amount, won_deals, customers,
        target, target as region_target, won_amount as region_won_amount
    from regions

    union all

    select
        period, level, region, product_line, customer_type, won_amount, won_deals, customers,
        target, cast(null as decimal(38, 6)) as region_target, cast(null as decimal(38, 6)) as region_won_amount
    from company

),

final as (

    select
        unioned.period,
        periods.grain,
        unioned.level,
        unioned.region,
        unioned.product_line,
        unioned.customer_type,
        cast(unioned.won_amount as decimal(38, 6)) as won_amount,
        unioned.won_deals,
        unioned.customers,
        cast(unioned.target as decimal(38, 6)) as target,
        case
            when unioned.target > 0
                then cast(unioned.won_amount as {{ type_double() }}) * 100 / cast(unioned.target as {{ type_double() }})
        end as attainment,
        cast(unioned.region_target as decimal(38, 6)) as region_target,
        case
            when unioned.region_target > 0
                then cast(unioned.won_amount as {{ type_double() }}) * 100
                    / cast(unioned.region_target as {{ type_double() }})
        end as target_contribution,
        case
            when unioned.region_won_amount > 0
                then cast(unioned.won_amount as {{ type_double() }}) * 100
                    / cast(unioned.region_won_amount as {{ type_double() }})
        end as share_of_region_won
    from unioned
    inner join periods
        on unioned.period = periods.period

)

select * from final
{{ refresh_window_filter() }}
