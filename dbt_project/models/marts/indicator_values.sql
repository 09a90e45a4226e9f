-- Published indicator values: every evaluated period x subject (rep, team, company) x indicator.
-- Survey-based indicators (nps, csat, key_account_nps) at rep level are masked when insufficient:
-- value, numerator and the nps interval are NULL, the sample size stays (audit_indicator_values
-- keeps the full figures). Complementary suppression (int_analysis_disclosure) masks further cells
-- the same way where a team's or the company's sum minus the published figures would give a
-- hidden one back; `disclosure` says which rule hid a cell.
-- pending: events of an indicator with a limit still running at as-of (int_indicator_values); never
-- masked (no survey indicator has a limit).
-- depends_on: {{ ref('stg_cfg__closed_periods') }} (the refresh window, macros/refresh_window.sql)
with

indicator_values as (

    select * from {{ ref('int_indicator_values') }}

),

disclosure as (

    select * from {{ ref('int_analysis_disclosure') }}

),

masked as (

    select
        indicator_values.*,
        coalesce(disclosure.disclosure, 'published') as disclosure,
        (
            indicator_values.level = 'rep'
            and indicator_values.indicator in ('{{ survey_indicators() | join("', '") }}')
            and not indicator_values.is_sufficient
        )
        or coalesce(disclosure.disclosure, 'published') <> 'published' as is_masked
    from indicator_values
    left join disclosure
        on indicator_values.period = disclosure.period
        and indicator_values.level = disclosure.level
        and indicator_values.subject_id = disclosure.subject_id
        and indicator_values.indicator = disclosure.indicator

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
        pending,
        is_sufficient,
        case when is_masked then null else nps_ci_low end as nps_ci_low,
        case when is_masked then null else nps_ci_high end as nps_ci_high,
        disclosure
    from masked

)

select * from final
{{ refresh_window_filter() }}
