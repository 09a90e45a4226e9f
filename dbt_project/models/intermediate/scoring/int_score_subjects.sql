-- The score arithmetic, once: per graded subject (rep, team; the company level is not graded) and
-- evaluated period, from its indicator lines (int_score_indicator_lines) to its grade. marts.scorecard
-- publishes these figures; int_analysis_score_steps (marts.score_statement) lays them out step by step.
--   weighted_sum      sum of the counted lines' amounts (weight x score, DECIMAL(38,20), exact)
--   coverage          sum of the counted lines' weights
--   composite_score   weighted_sum / coverage, DECIMAL(38,10); NULL when no line counts
--   progress_points   for each full progress_per_points the composite rose over the subject's previous
--                     period, progress_points, at most progress_max, never negative; 0 without a previous
--                     composite. A previous period outside the run's refresh window (closed, or not
--                     selected) keeps its published composite as the baseline (macros/refresh_window.sql
--                     progress_baseline over the scorecard this run does not change there,
--                     macros/published_state.sql), so progress agrees with the grades analysts see;
--                     on a published warehouse the previous period itself is found among the window's
--                     composites and the published ones (this run reads only the window's events).
--   adjustment_points the subject's manager adjustments, clamped (int_adjustments_assigned)
--   penalty_points    of the subject's confirmed penalty flags, outside the cap (int_subject_flags)
--   final_score       round(composite + progress + adjustment - penalty, 2), half-up, once, DECIMAL(18,2);
--                     NULL below coverage_min (insufficient_data, no bonus coefficient, no ranks)
--   grade             the first band (highest first) whose min_score the rounded score reaches
--   bonus_coefficient the band's, none while a holding flag is open (grade_status held)
--   ranks             by final score at 6 decimals (macros/compare_value.sql), ties share the best rank
-- The <indicator>_score columns are NULL where the survey figure is not published
-- (int_analysis_disclosure); a hidden figure counts in no composite (int_score_indicator_lines).
-- depends_on: {{ ref('stg_cfg__closed_periods') }} (the refresh window, macros/refresh_window.sql)
{%- set decimal = 'decimal(38, 10)' %}
{%- set published_scorecard = published_relation('scorecard') or none %}

with

subjects as (

    select * from {{ ref('int_subjects_per_period') }}
    where level in ('rep', 'team')

),

lines as (

    select * from {{ ref('int_score_indicator_lines') }}

),

adjustments as (

    select distinct
        period,
        level,
        subject_id,
        subject_raw_points,
        subject_clamped_points
    from {{ ref('int_adjustments_assigned') }}

),

subject_flags as (

    select * from {{ ref('int_subject_flags') }}

),

grade_bands as (

    select * from {{ ref('stg_cfg__grade_bands') }}

),

sums as (

    select
        period,
        level,
        subject_id,
        {%- for indicator in indicator_catalogue() %}
        max(case when indicator = '{{ indicator }}' and is_published then score end) as {{ indicator }}_score,
        {%- endfor %}
        sum(case when is_weighted then 1 else 0 end) as indicator_steps,
        sum(case when counts_in_composite then 1 else 0 end) as counted_indicators,
        sum(amount) as weighted_sum,
        sum(case when counts_in_composite then weight end) as weight_sum
    from lines
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
        sums.{{ indicator }}_score,
        {%- endfor %}
        coalesce(sums.indicator_steps, 0) as indicator_steps,
        coalesce(sums.counted_indicators, 0) as counted_indicators,
        sums.weighted_sum,
        cast(sums.weighted_sum / nullif(sums.weight_sum, 0) as {{ decimal }}) as composite_score,
        cast(coalesce(sums.weight_sum, 0) as {{ decimal }}) as coverage,
        cast(coalesce(adjustments.subject_raw_points, 0) as {{ decimal }}) as adjustment_raw_points,
        cast(coalesce(adjustments.subject_clamped_points, 0) as {{ decimal }}) as adjustment_points,
        cast(coalesce(subject_flags.penalty_points, 0) as {{ decimal }}) as penalty_points,
        coalesce(subject_flags.open_flags, 0) as open_flags,
        coalesce(subject_flags.holding_flags, 0) as holding_flags,
        coalesce(subject_flags.confirmed_flags, 0) as confirmed_flags,
        coalesce(subject_flags.excluded_responses, 0) as excluded_responses
    from subjects
    left join sums
        on subjects.period = sums.period
        and subjects.level = sums.level
        and subjects.subject_id = sums.subject_id
    left join adjustments
        on subjects.period = adjustments.period
        and subjects.level = adjustments.level
        and subjects.subject_id = adjustments.subject_id
    left join subject_flags
        on subjects.period = subject_flags.period
        and subjects.level = subject_flags.level
        and subjects.subject_id = subject_flags.subject_id

),

-- each subject's previous period: among the recomputed composites of a first build; on a published
-- warehouse among the recomputed ones of the refresh window and the published ones of every other
-- period (this run reads only the window's events, int_periods_refreshed). Labels of one grain sort
-- as text in time order.
history as (

    select period, level, subject_id, composite_score
    from composites
    {%- if published_scorecard is not none %}
    where {{ in_refresh_window('period') }}
    union all
    select period, level, subject_id, cast(composite_score as {{ decimal }}) as composite_score
    from {{ published_scorecard }}
    where level in ('rep', 'team') and not {{ in_refresh_window('period') }}
    {%- endif %}

),

previous as (

    select
        period,
        level,
        subject_id,
        lag(composite_score) over (partition by level, subject_id order by period)
            as recomputed_previous_composite_score,
        lag(period) over (partition by level, subject_id order by period) as previous_period
    from history

),

with_lag as (

    select
        composites.*,
        previous.recomputed_previous_composite_score,
        previous.previous_period
    from composites
    left join previous
        on composites.period = previous.period
        and composites.level = previous.level
        and composites.subject_id = previous.subject_id

),

with_previous as (

    {{ progress_baseline('with_lag', published_scorecard) }}

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
        ) as progress_points,
        coverage >= cast({{ var('coverage_min') }} as {{ decimal }}) as is_graded
    from with_previous

),

finals as (

    select
        *,
        composite_score + progress_points + adjustment_points - penalty_points as unrounded_total,
        case
            when is_graded then cast(
                round(composite_score + progress_points + adjustment_points - penalty_points, 2) as decimal(18, 2)
            )
        end as final_score
    from with_progress

),

banded as (

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
        finals.*,
        case when finals.is_graded then grade_bands.label else 'insufficient_data' end as grade,
        grade_bands.min_score as band_min_score,
        case when finals.is_graded and finals.holding_flags = 0 then grade_bands.bonus_coefficient end
            as bonus_coefficient,
        case when finals.holding_flags > 0 then 'held' else 'final' end as grade_status,
        ranked.rank_in_team,
        ranked.rank_overall
    from finals
    left join banded
        on finals.period = banded.period
        and finals.level = banded.level
        and finals.subject_id = banded.subject_id
    left join grade_bands
        on banded.band_seq = grade_bands.seq
    left join ranked
        on finals.period = ranked.period
        and finals.level = ranked.level
        and finals.subject_id = ranked.subject_id

)

select * from final
