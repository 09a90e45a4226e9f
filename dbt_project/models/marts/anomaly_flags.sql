-- Suspicious self-reported feedback: one row per flag of the seven rules of SCORING.md ("Anomaly
-- rules"; logic, thresholds and defaults in docs/anomalies.md and in each int_anomaly_<rule> model),
-- with the run in which the flag was first seen (audit.anomaly_flag_history).
with

flags as (

    select * from {{ ref('int_anomaly_flags') }}

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
        history.first_seen_at
    from flags
    left join history
        on flags.flag_id = history.flag_id

)

select * from final
{{ refresh_window_filter() }}
