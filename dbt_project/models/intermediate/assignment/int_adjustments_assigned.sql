-- Manager adjustments assigned to the evaluation period that contains the start of their own period
-- label (a label finer than the grain, e.g. a month at quarter grain, falls into its quarter), with
-- the subject's raw sum in that period and the sum clamped to +- var('adjust_max_abs').
with

adjustments as (

    select * from {{ ref('stg_crm__adjustments') }}

),

assigned as (

    select
        adjustment_id,
        period as adjustment_period,
        {{ period_label(period_label_start('period')) }} as period,
        level,
        subject_id,
        points,
        reason,
        approved_by
    from adjustments

),

summed as (

    select
        *,
        sum(points) over (partition by period, level, subject_id) as subject_raw_points
    from assigned

),

final as (

    select
        *,
        cast(
            case
                when subject_raw_points > {{ var('adjust_max_abs') }} then {{ var('adjust_max_abs') }}
                when subject_raw_points < -{{ var('adjust_max_abs') }} then -{{ var('adjust_max_abs') }}
                else subject_raw_points
            end as decimal(18, 4)
        ) as subject_clamped_points,
        abs(subject_raw_points) > {{ var('adjust_max_abs') }} as was_clamped
    from summed

)

select * from final
