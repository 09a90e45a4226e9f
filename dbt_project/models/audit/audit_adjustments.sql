{{ config(alias="adjustments") }}
-- Every manager adjustment with its reason and approver, the evaluation period it counts in, the
-- subject's raw sum of adjustments in that period, the sum after clamping and whether it was clamped.
-- depends_on: {{ ref('stg_cfg__closed_periods') }} (the refresh window, macros/refresh_window.sql)
with

adjustments as (

    select * from {{ ref('int_adjustments_assigned') }}

),

final as (

    select
        adjustment_id,
        adjustment_period,
        period,
        level,
        subject_id,
        points,
        reason,
        approved_by,
        subject_raw_points,
        subject_clamped_points,
        was_clamped
    from adjustments

)

select * from final
{{ refresh_window_filter() }}
