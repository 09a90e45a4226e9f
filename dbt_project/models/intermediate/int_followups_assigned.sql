-- Follow-ups assigned to the evaluated period of planned_on and to their rep; completed in time when
-- the local completion date is at most var('followup_grace_days') after planned_on.
with

followups as (

    select * from {{ ref('stg_crm__followups') }}

),

reps as (

    select * from {{ ref('stg_crm__reps') }}

),

periods as (

    select * from {{ ref('int_periods_evaluated') }}

),

final as (

    select
        periods.period,
        followups.followup_id,
        followups.rep_id,
        reps.team_id,
        followups.customer_id,
        followups.planned_on,
        cast(followups.completed_at_local as date) as completed_on,
        coalesce(
            cast(followups.completed_at_local as date)
                <= cast({{ dbt.dateadd('day', var('followup_grace_days'), 'followups.planned_on') }} as date),
            false
        ) as is_completed_in_time
    from followups
    inner join periods
        on {{ period_label('followups.planned_on') }} = periods.period
    left join reps
        on followups.rep_id = reps.rep_id

)

select * from final
