-- Grades of reps and teams per evaluated period (the company level is not graded).
-- composite = sum(weight x score) / sum(weight) over the sufficient weighted indicators, in
-- DECIMAL(38,10) (110 x 0.3 is exactly 33); coverage = sum of those weights. progress and adjustment
-- points are added and the sum is rounded half-up to 2 decimals once, at the end; the grade is read
-- from the rounded score with half-open bands. Below coverage_min: insufficient_data, no score,
-- no bonus coefficient, no ranks. Ranks compare final scores at 6 decimals (macros/compare_value.sql; the
-- final score is DECIMAL(18,2), so this is the same order, written with the project's one rule).
-- A survey indicator's score column is NULL where its figure is not published (int_analysis_disclosure:
-- small sample, complementary suppression); the composite still counts every sufficient score.
-- Reviews of anomaly flags (SCORING.md "From flag to decision", int_subject_flags): penalty_points of
-- the subject's confirmed penalty flags are taken off outside the adjustment cap
-- (final = round(composite + progress + adjustment - penalty, 2)); while a holding flag of the subject
-- and period is open, grade_status is 'held' and there is no bonus coefficient (grade and ranks are
-- published); otherwise 'final'. Survey figures already leave out excluded responses.
{%- set decimal = 'decimal(38, 10)' %}

with

subjects as (

    select * from {{ ref('int_subjects_per_period') }}
    where level in ('rep', 'team')

),

indicator_scores_unmasked as (

    select * from {{ ref('int_indicator_scores') }}

),

disclosure as (

    select * from {{ ref('int_analysis_disclosure') }}

),

scores as (

    select
        indicator_scores_unmasked.*,
        coalesce(disclosure.disclosure, 'published') = 'published' as is_published
    from indicator_scores_unmasked
    left join disclosure
        on indicator_scores_unmasked.period = disclosure.period
        and indicator_scores_unmasked.level = disclosure.level
        and indicator_scores_unmasked.subject_id = disclosure.subject_id
        and indicator_scores_unmasked.indicator = disclosure.indicator

),

adjustments as (

    select distinct
        period,
        level,
        subject_id,
        subject_clamped_points
    from {{ ref('int_adjustments_assigned') }}

),

subject_flags as (

    select * from {{ ref('int_subject_flags') }}

),

grade_bands as (

    select * from {{ source('raw', 'cfg_grade_bands') }}

),

indicator_scores as (

    select
        period,
        level,
        subject_id,
        {%- for indicator in indicator_catalogue() %}
        max(case when indicator = '{{ indicator }}' and is_published then cast(score as {{ decimal }}) end)
            as {{ indicator }}_score,
        {%- endfor %}
        sum(
            case when counts_in_composite then cast(weight as {{ decimal }}) * cast(score as {{ decimal }}) end
        ) as weighted_score_sum,
        sum(case when counts_in_composite then cast(weight as {{ decimal }}) end) as weight_sum
    from scores
    group by period, level, subject_id

),

composites as (

    select
        subjects.period,
        subjects.grain,
        subjects.period_start,
        subjects.level,
        subjects.subject_id,
        subjects.subject_name,
        subjects.team_id,
        subjects.scheme_id,
        subjects.business_stage,
        {%- for indicator in indicator_catalogue() %}
        indicator_scores.{{ indicator }}_score,
        {%- endfor %}
        cast(indicator_scores.weighted_score_sum / nullif(indicator_scores.weight_sum, 0) as {{ decimal }})
            as composite_score,
        cast(coalesce(indicator_scores.weight_sum, 0) as {{ decimal }}) as coverage,
        cast(coalesce(adjustments.subject_clamped_points, 0) as {{ decimal }}) as adjustment_points,
        cast(coalesce(subject_flags.penalty_points, 0) as {{ decimal }}) as penalty_points,
        coalesce(subject_flags.open_flags, 0) as open_flags,
        coalesce(subject_flags.holding_flags, 0) as holding_flags,
        coalesce(subject_flags.confirmed_flags, 0) as confirmed_flags,
        coalesce(subject_flags.excluded_responses, 0) as excluded_responses
    from subjects
    left join indicator_scores
        on subjects.period = indicator_scores.period
        and subjects.level = indicator_scores.level
        and subjects.subject_id = indicator_scores.subject_id
    left join adjustments
        on subjects.period = adjustments.period
        and subjects.level = adjustments.level
        and subjects.subject_id = adjustments.subject_id
    left join subject_flags
        on subjects.period = subject_flags.period
        and subjects.level = subject_flags.level
        and subjects.subject_id = subject_flags.subject_id

),

with_lag as (

    select
        *,
        lag(composite_score) over (partition by level, subject_id order by period_start)
            as recomputed_previous_composite_score,
        lag(period) over (partition by level, subject_id order by period_start) as previous_period
    from composites

),

with_previous as (

    -- a previous period outside the window (closed or not selected): progress from its published
    -- composite (macros/refresh_window.sql)
    {{ progress_baseline('with_lag', this if is_incremental() else none) }}

),

with_progress as (

    select
        *,
        cast(
            case
                when composite_score is null or previous_composite_score is null then 0
                else greatest(
                    0,
                    least(
                        {{ var('progress_max') }},
                        floor((composite_score - previous_composite_score) / {{ var('progress_per_points') }})
                            * {{ var('progress_points') }}
                    )
                )
            end as {{ decimal }}
        ) as progress_points
    from with_previous

),

finals as (

    select
        *,
        coverage >= cast({{ var('coverage_min') }} as {{ decimal }}) as is_graded,
        case
            when coverage >= cast({{ var('coverage_min') }} as {{ decimal }})
                then cast(round(composite_score + progress_points + adjustment_points - penalty_points, 2) as decimal(18, 2))
        end as final_score
    from with_progress

),

graded as (

    select
        finals.period,
        finals.level,
        finals.subject_id,
        min(grade_bands.seq) as band_seq
    from finals
    inner join grade_bands
        on grade_bands.min_score is null
        or grade_bands.min_score <= finals.final_score
    where finals.is_graded
    group by finals.period, finals.level, finals.subject_id

),

ranked as (

    select
        period,
        level,
        subject_id,
        case
            when level = 'rep' then rank() over (
                partition by period, level, team_id order by {{ compare_value('final_score') }} desc
            )
        end as rank_in_team,
        rank() over (partition by period, level order by {{ compare_value('final_score') }} desc) as rank_overall
    from finals
    where is_graded

),

final as (

    select
        finals.period,
        finals.grain,
        finals.level,
        finals.subject_id,
        finals.subject_name,
        finals.team_id,
        finals.scheme_id,
        finals.business_stage,
        {%- for indicator in indicator_catalogue() %}
        finals.{{ indicator }}_score,
        {%- endfor %}
        finals.composite_score,
        finals.coverage,
        finals.progress_points,
        finals.adjustment_points,
        finals.final_score,
        case when finals.is_graded then grade_bands.label else 'insufficient_data' end as grade,
        case when finals.is_graded and finals.holding_flags = 0 then grade_bands.bonus_coefficient end
            as bonus_coefficient,
        ranked.rank_in_team,
        ranked.rank_overall,
        case when finals.holding_flags > 0 then 'held' else 'final' end as grade_status,
        finals.open_flags,
        finals.holding_flags,
        finals.confirmed_flags,
        finals.penalty_points,
        finals.excluded_responses
    from finals
    left join graded
        on finals.period = graded.period
        and finals.level = graded.level
        and finals.subject_id = graded.subject_id
    left join grade_bands
        on graded.band_seq = grade_bands.seq
    left join ranked
        on finals.period = ranked.period
        and finals.level = ranked.level
        and finals.subject_id = ranked.subject_id

)

select * from final
{{ refresh_window_filter() }}
