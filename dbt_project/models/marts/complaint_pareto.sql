-- Complaint tickets per period by category, for the company and for each team (the team of the rep
-- the ticket is attributed to: its rep_id, or the customer's owner), largest category first.
-- share and cumulative_share are % of the subject's complaints in the period (unrounded). Categories
-- are ordered by count, ties by category name. The "vital few" are the categories, in that order, up
-- to and including the one at which the cumulative share reaches 80 %: a category is vital when the
-- categories before it cover less than 80 % (decided in integers: 100 x count before < 80 x total).
-- depends_on: {{ ref('stg_cfg__closed_periods') }} (the refresh window, macros/refresh_window.sql)
with

tickets as (

    select * from {{ ref('int_tickets_assigned') }}
    where is_complaint

),

periods as (

    select * from {{ ref('int_periods_refreshed') }}

),

by_subject as (

    select
        period,
        'company' as level,
        'company' as subject_id,
        category,
        count(*) as complaint_count
    from tickets
    group by period, category

    union all

    select
        period,
        'team' as level,
        team_id as subject_id,
        category,
        count(*) as complaint_count
    from tickets
    where team_id is not null
    group by period, team_id, category

),

ordered as (

    select
        *,
        sum(complaint_count) over (partition by period, level, subject_id) as total_complaints,
        row_number() over (
            partition by period, level, subject_id
            order by complaint_count desc, category
        ) as pareto_rank
    from by_subject

),

cumulated as (

    select
        *,
        sum(complaint_count) over (
            partition by period, level, subject_id
            order by pareto_rank
            rows between unbounded preceding and current row
        ) as cumulative_count
    from ordered

),

final as (

    select
        cumulated.period,
        periods.grain,
        cumulated.level,
        cumulated.subject_id,
        cumulated.category,
        cumulated.pareto_rank,
        cumulated.complaint_count,
        cumulated.total_complaints,
        cumulated.cumulative_count,
        cast(cumulated.complaint_count as {{ type_double() }}) * 100 / cumulated.total_complaints as share,
        cast(cumulated.cumulative_count as {{ type_double() }}) * 100 / cumulated.total_complaints
            as cumulative_share,
        100 * (cumulated.cumulative_count - cumulated.complaint_count) < 80 * cumulated.total_complaints
            as is_vital_few
    from cumulated
    inner join periods
        on cumulated.period = periods.period

)

select * from final
{{ refresh_window_filter() }}
