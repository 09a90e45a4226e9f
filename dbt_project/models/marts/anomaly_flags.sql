-- Suspicious self-reported feedback: one row per flag of the seven rules of SCORING.md ("Anomaly
-- rules"; logic, thresholds and defaults in docs/anomalies.md and in each int_anomaly_<rule> model),
-- with the run in which the flag was first seen (audit.anomaly_flag_history) and its review
-- (int_anomaly_flag_reviews: status from the latest accepted decision, the rule's policy, what it
-- holds, excludes and takes off).
-- depends_on: {{ ref('stg_cfg__closed_periods') }} (the refresh window, macros/refresh_window.sql)
with

flags as (

    select * from {{ ref('int_anomaly_flag_reviews') }}

),

history as (

    select * from {{ ref('audit_anomaly_flag_history') }}

),

final as (

    select
        flags.flag_id,
        flags.period,
        flags.rep_id,
        flags.team_id,
        flags.customer_id,
        flags.response_id,
        flags.rule_id,
        flags.severity,
        flags.strength,
        flags.evidence,
        history.first_run_id,
        history.first_seen_at,
        flags.review_status,
        flags.reviewed_by,
        flags.decided_at,
        flags.review_reason,
        flags.decision_id,
        flags.on_open,
        flags.on_confirm,
        flags.is_holding,
        flags.flagged_responses,
        flags.excluded_responses,
        flags.penalty_points,
        flags.indicators
    from flags
    left join history
        on flags.flag_id = history.flag_id

)

select * from final
{{ refresh_window_filter() }}
