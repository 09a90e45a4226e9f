-- Periods of var('grain') up to the as-of date that hold at least one closed deal, survey response,
-- ticket, interaction, proposal or follow-up, each by the local date of its own event.
with

deals as (

    select closed_on as event_on
    from {{ ref('stg_crm__deals') }}
    where closed_on is not null

),

responses as (

    select cast(responded_at_local as date) as event_on
    from {{ ref('stg_survey__responses') }}

),

tickets as (

    select cast(opened_at_local as date) as event_on
    from {{ ref('stg_tickets__tickets') }}

),

interactions as (

    select cast(customer_contacted_at_local as date) as event_on
    from {{ ref('stg_crm__interactions') }}

),

proposals as (

    select cast(submitted_at_local as date) as event_on
    from {{ ref('stg_crm__proposals') }}

),

followups as (

    select planned_on as event_on
    from {{ ref('stg_crm__followups') }}

),

event_dates as (

    select event_on from deals
    union all select event_on from responses
    union all select event_on from tickets
    union all select event_on from interactions
    union all select event_on from proposals
    union all select event_on from followups

),

periods as (

    select distinct
        {{ period_label('event_on') }} as period,
        {{ period_start('event_on') }} as period_start,
        {{ period_end('event_on') }} as period_end
    from event_dates
    where event_on is not null

),

final as (

    select
        period,
        '{{ evaluation_grain() }}' as grain,
        period_start,
        period_end
    from periods
    where period_start <= {{ as_of_local_date() }}

)

select * from final
