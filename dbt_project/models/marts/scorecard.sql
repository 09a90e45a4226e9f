-- Grades of reps and teams per evaluated period (the company level is not graded): the published
-- columns of int_score_subjects, where the arithmetic is (composite, coverage, progress, adjustment,
-- penalty, final score rounded once, grade bands, bonus coefficient, ranks).
-- A survey indicator's score column is NULL where its figure is not published (int_analysis_disclosure:
-- small sample, complementary suppression); the composite still counts every sufficient score.
-- Reviews of anomaly flags (SCORING.md "From flag to decision", int_subject_flags): while a holding flag
-- of the subject and period is open, grade_status is 'held' and there is no bonus coefficient (grade and
-- ranks are published); otherwise 'final'.
-- depends_on: {{ ref('stg_cfg__closed_periods') }} (the refresh window, macros/refresh_window.sql)
with

scores as (

    select * from {{ ref('int_score_subjects') }}

),

final as (

    select
        period,
        grain,
        level,
        subject_id,
        subject_name,
        team_id,
        scheme_id,
        business_stage,
        {%- for indicator in indicator_catalogue() %}
        {{ indicator }}_score,
        {%- endfor %}
        composite_score,
        coverage,
        progress_points,
        adjustment_points,
        final_score,
        grade,
        bonus_coefficient,
        rank_in_team,
        rank_overall,
        grade_status,
        open_flags,
        holding_flags,
        confirmed_flags,
        penalty_points,
        excluded_responses
    from scores

)

select * from final
{{ refresh_window_filter() }}
