{{ config(alias="indicator_values") }}
-- Auditors' copy of indicator_values without the masking of small survey samples, with the promoter
-- and detractor counts behind nps and key_account_nps.
-- depends_on: {{ ref('stg_cfg__closed_periods') }} (the refresh window, macros/refresh_window.sql)
with

indicator_values as (

    select * from {{ ref('int_indicator_values') }}

),

final as (

    select
        period,
        grain,
        level,
        subject_id,
        indicator,
        numerator,
        denominator,
        value,
        sample_size,
        pending,
        is_sufficient,
        nps_ci_low,
        nps_ci_high,
        promoters,
        detractors
    from indicator_values

)

select * from final
{{ refresh_window_filter() }}
