-- Interactions assigned to the evaluated period of customer_contacted_at (local) and to their rep,
-- with the answer time in hours (UTC timestamps) and whether it met the SLA (unanswered = late).
-- Pending (SCORING.md "Precise readings"): an interaction not answered at the run's as-of time (no
-- rep_responded_at, or one after as-of) whose SLA has not run out yet (as-of <= contacted + the SLA
-- hours) is pending: response_sla_rate leaves it out of numerator and denominator and counts it in
-- `pending`; once the SLA has passed it is late. One answered at or before as-of counts normally.
with

interactions as (

    select * from {{ ref('stg_crm__interactions') }}

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
        interactions.interaction_id,
        interactions.rep_id,
        reps.team_id,
        interactions.customer_id,
        interactions.channel,
        interactions.rep_responded_at_utc is not null as is_answered,
        -- in double precision on every engine (Spark's decimal division would keep only 6 decimals)
        {{ dbt.cast(dbt.datediff('interactions.customer_contacted_at_utc', 'interactions.rep_responded_at_utc', 'second'),
                    type_double()) }} / 3600.0
            as response_hours,
        coalesce(
            interactions.rep_responded_at_utc
                <= {{ dbt.dateadd('hour', var('sla_response_hours'), 'interactions.customer_contacted_at_utc') }},
            false
        ) as is_within_sla,
        not coalesce(interactions.rep_responded_at_utc <= {{ as_of_utc() }}, false)
            and {{ as_of_utc() }}
                <= {{ dbt.dateadd('hour', var('sla_response_hours'), 'interactions.customer_contacted_at_utc') }}
            as is_sla_pending
    from interactions
    inner join periods
        on {{ period_label('cast(interactions.customer_contacted_at_local as date)') }} = periods.period
    left join reps
        on interactions.rep_id = reps.rep_id

)

select * from final
