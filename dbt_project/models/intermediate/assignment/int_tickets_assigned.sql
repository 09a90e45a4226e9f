-- Tickets assigned to the evaluated period of opened_at (local) and to a rep: the ticket's rep_id,
-- or the customer's owner rep when the ticket has none. Complaint resolution is timed on UTC
-- timestamps: resolved at most var('complaint_resolution_hours') after opening is in time
-- (24 h 0 min is in time, 24 h 1 min is late); unresolved is not in time.
-- Pending (SCORING.md "Precise readings"): a ticket not resolved at the run's as-of time (no
-- resolved_at, or one after as-of) whose limit has not run out yet (as-of <= opened_at + the hours:
-- it can still be resolved in time) is pending; complaint_resolution_24h leaves it out of numerator
-- and denominator and counts it in `pending`. Once the limit has passed it is late, as before. A
-- ticket resolved at or before as-of counts normally even while its limit is still running.
with

tickets as (

    select * from {{ ref('stg_tickets__tickets') }}

),

customers as (

    select * from {{ ref('stg_crm__customers') }}

),

reps as (

    select * from {{ ref('stg_crm__reps') }}

),

periods as (

    select * from {{ ref('int_periods_refreshed') }}

),

attributed as (

    select
        tickets.*,
        coalesce(tickets.rep_id, customers.owner_rep_id) as attributed_rep_id,
        tickets.rep_id is null as is_attributed_to_owner
    from tickets
    left join customers
        on tickets.customer_id = customers.customer_id

),

final as (

    select
        periods.period,
        attributed.ticket_id,
        attributed.attributed_rep_id as rep_id,
        reps.team_id,
        attributed.customer_id,
        attributed.is_attributed_to_owner,
        attributed.type,
        attributed.category,
        attributed.severity,
        attributed.type = 'complaint' as is_complaint,
        attributed.opened_at_utc,
        attributed.resolved_at_utc,
        {{ dbt.dateadd('hour', var('complaint_resolution_hours'), 'attributed.opened_at_utc') }} as resolution_due_at_utc,
        coalesce(
            attributed.resolved_at_utc <= {{ dbt.dateadd('hour', var('complaint_resolution_hours'), 'attributed.opened_at_utc') }},
            false
        ) as is_resolved_in_time,
        not coalesce(attributed.resolved_at_utc <= {{ as_of_utc() }}, false)
            and {{ as_of_utc() }} <= {{ dbt.dateadd('hour', var('complaint_resolution_hours'), 'attributed.opened_at_utc') }}
            as is_resolution_pending
    from attributed
    inner join periods
        on {{ period_label('cast(attributed.opened_at_local as date)') }} = periods.period
    left join reps
        on attributed.attributed_rep_id = reps.rep_id

)

select * from final
