-- Follow-ups assigned to the evaluated period of planned_on and to their rep; completed in time when
-- the local completion date is at most var('followup_grace_days') after planned_on.
-- Pending (SCORING.md "Precise readings"): a follow-up not completed at the run's as-of time (no
-- completed_at, or one after as-of) whose grace days have not run out yet (the local date of as-of is
-- at most planned_on + the grace days: it can still be completed in time) is pending:
-- followup_completion leaves it out of numerator and denominator and counts it in `pending`; once the
-- last grace day is over it is late. One completed at or before as-of counts normally.
with

followups as (

    select * from {{ ref('stg_crm__followups') }}

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
        ) as is_completed_in_time,
        not coalesce(followups.completed_at_utc <= {{ as_of_utc() }}, false)
            and {{ as_of_local_date() }}
                <= cast({{ dbt.dateadd('day', var('followup_grace_days'), 'followups.planned_on') }} as date)
            as is_completion_pending
    from followups
    inner join periods
        on {{ period_label('followups.planned_on') }} = periods.period
    left join reps
        on followups.rep_id = reps.rep_id

)

select * from final
