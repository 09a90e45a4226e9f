-- Published indicator values: every evaluated period x subject (rep, team, company) x indicator.
-- Survey-based indicators (nps, csat, key_account_nps) at rep level are masked when insufficient:
-- value, numerator and the nps interval are NULL, the sample size stays (audit_indicator_values
-- keeps the full figures).
with

indicator_values as (

    select * from {{ ref('int_indicator_values') }}

),

masked as (

    select
        *,
        level = 'rep'
            and indicator in ('{{ survey_indicators() | join("', '") }}')
            and not is_sufficient as is_masked
    from indicator_values

),

final as (

    select
        period,
        grain,
        level,
        subject_id,
        indicator,
        case when is_masked then null else numerator end as numerator,
        denominator,
        case when is_masked then null else value end as value,
        sample_size,
        is_sufficient,
        case when is_masked then null else nps_ci_low end as nps_ci_low,
        case when is_masked then null else nps_ci_high end as nps_ci_high
    from masked

)

select * from final
