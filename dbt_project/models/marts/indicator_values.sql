-- Published indicator values: every evaluated period x subject (rep, team, company) x indicator.
-- Survey-based indicators (nps, csat, key_account_nps) of a rep or team from fewer than
-- var('anonymity_k') answers, and the complementary cells that protect them (int_analysis_disclosure),
-- are masked: value, numerator and the nps interval are NULL, the sample size stays
-- (audit_indicator_values keeps the full figures); `disclosure` says which rule hid a cell. A figure from
-- k answers or more but below its minimum sample is shown with is_sufficient false (not graded).
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
        coalesce(disclosure.disclosure, 'published') <> 'published' as is_masked
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
