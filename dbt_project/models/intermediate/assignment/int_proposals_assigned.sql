-- Proposals assigned to the evaluated period of submitted_at (local) and to their rep.
with

proposals as (

    select * from {{ ref('stg_crm__proposals') }}

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
        proposals.proposal_id,
        proposals.rep_id,
        reps.team_id,
        proposals.customer_id,
        proposals.customer_verdict,
        proposals.customer_verdict <> 'pending' as has_verdict,
        proposals.customer_verdict = 'fully_meets' as is_fully_meeting
    from proposals
    inner join periods
        on {{ period_label('cast(proposals.submitted_at_local as date)') }} = periods.period
    left join reps
        on proposals.rep_id = reps.rep_id

)

select * from final
