-- The score statement: per graded subject (rep, team) and period, one row per step from each weighted
-- indicator's value, score and weight to the composite, progress, adjustment, final score, grade and
-- bonus coefficient (int_analysis_score_steps), so that anyone can follow how a grade came about.
-- A survey indicator step whose figure is not published (small sample, complementary suppression:
-- int_analysis_disclosure) shows neither value, score nor amount, and counts in no composite; its
-- explanation says why.
-- depends_on: {{ ref('stg_cfg__closed_periods') }} (the refresh window, macros/refresh_window.sql)
with

steps as (

    select * from {{ ref('int_analysis_score_steps') }}

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
        step_no,
        step,
        indicator,
        method,
        case when disclosure = 'published' then value end as value,
        sample_size,
        is_sufficient,
        case when disclosure = 'published' then score end as score,
        weight,
        counts_in_composite,
        case when disclosure = 'published' then amount end as amount,
        grade,
        disclosure,
        case
            when disclosure = 'small_sample' then {{ report_sentence('step_hidden_small', {
                'indicator': report_trace_label('indicator', 'indicator'),
                'sample': dbt.cast('sample_size', dbt.type_string()), 'k': "'" ~ var('anonymity_k', 5) ~ "'",
            }) }}
            when disclosure = 'complementary' then {{ report_sentence('step_hidden_complementary', {
                'indicator': report_trace_label('indicator', 'indicator'),
            }) }}
            else explanation
        end as explanation
    from steps

)

select * from final
{{ refresh_window_filter() }}
