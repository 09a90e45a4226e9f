-- Self-reported feedback records assigned to the evaluated period of contact_on (SCORING.md: self-
-- reported feedback belongs to the period of contact_on) and to the rep's current team; the base of the
-- anomaly rules about self-reports (hidden_complaint, complaint_underreporting, inflated_self_report,
-- fabricated_contact).
with

feedback as (

    select * from {{ ref('stg_crm__feedback_self_reported') }}

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
        feedback.record_id,
        feedback.rep_id,
        reps.team_id,
        feedback.customer_id,
        feedback.contact_on,
        feedback.reported_on,
        feedback.kind,
        feedback.claimed_satisfaction,
        feedback.kind = 'complaint' as is_complaint
    from feedback
    inner join periods
        on {{ period_label('feedback.contact_on') }} = periods.period
    left join reps
        on feedback.rep_id = reps.rep_id

)

select * from final
