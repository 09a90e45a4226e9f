-- The flags of the two rules that are about given survey responses, self_filled_survey and
-- speeder_burst, with their stable flag_id (macros/flag_reviews.sql). They are detected on every
-- response, excluded or not: a confirmed flag never removes its own evidence. Their confirmed flags
-- decide which responses leave the survey figures (int_excluded_responses), before the other rules
-- run on what is left (int_anomaly_flags unions them all).
with

self_filled_survey as (

    select period, rep_id, customer_id, response_id, rule_id, severity, strength, evidence
    from {{ ref('int_anomaly_self_filled_survey') }}

),

speeder_burst as (

    select period, rep_id, customer_id, response_id, rule_id, severity, strength, evidence
    from {{ ref('int_anomaly_speeder_burst') }}

),

unioned as (

    select * from self_filled_survey
    union all
    select * from speeder_burst

),

final as (

    select
        {{ anomaly_flag_id('rule_id', 'rep_id', 'period', 'customer_id', 'response_id') }} as flag_id,
        period,
        rep_id,
        customer_id,
        response_id,
        rule_id,
        severity,
        cast(strength as {{ type_double() }}) as strength,
        evidence
    from unioned

)

select * from final
