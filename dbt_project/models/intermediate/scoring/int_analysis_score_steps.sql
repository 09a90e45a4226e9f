-- How each grade came about, step by step, per graded subject (rep, team) and period, unmasked
-- (marts.score_statement hides the figures of survey cells that are not published).
-- Steps, numbered per subject:
--   1..k  indicator            each indicator the subject's scheme weights (catalogue order): value,
--                              sample size, score by the scheme's method, weight, and, when it counts,
--                              amount = weight x score (DECIMAL(38,10) x DECIMAL(38,10), exact)
--   k+1   weighted_sum         sum of the counted amounts
--   k+2   coverage             sum of the counted weights
--   k+3   composite            weighted_sum / coverage, as DECIMAL(38,10) (the scorecard's expression)
--   k+4   progress             progress points over the previous period's composite
--   k+5   adjustment           manager adjustments, clamped
--   then  penalty              one line per confirmed flag of the rep whose rule's policy is penalty:
--                              'confirmed <rule> <flag_id>', amount minus penalty_points (outside the cap)
--   next  final_score          round(composite + progress + adjustment - penalties, 2), half-up; NULL
--                              below coverage_min
--   next  grade                the first band whose minimum the final score reaches
--   next  bonus_coefficient    the band's bonus coefficient; none while the grade is held
--   then  excluded_responses   one line per confirmed flag whose responses left the subject's survey
--                              figures (a rep's own flags; a team's: its reps' flags)
--   last  held                 while holding flags are open: which, and that no bonus is paid until decided
-- The figures are int_score_subjects' (the arithmetic, once; marts.scorecard publishes the same) and
-- int_score_indicator_lines'; this model only lays them out. The test
-- analysis_score_statement_matches_scorecard checks that the steps add up to the scorecard's figures.
with

lines as (

    select * from {{ ref('int_score_indicator_lines') }}
    where is_weighted

),

subjects as (

    select * from {{ ref('int_score_subjects') }}

),

flag_reviews as (

    select * from {{ ref('int_anomaly_flag_reviews') }}

),

-- the flags of each graded subject: a rep's own, a team's reps' (int_subject_flags)
subject_flag_rows as (

    {%- set flag_columns = 'flag_id, rule_id, rep_id, review_status, is_holding, penalty_points, excluded_responses' %}
    select period, 'rep' as level, rep_id as subject_id, {{ flag_columns }} from flag_reviews
    union all
    select period, 'team' as level, team_id as subject_id, {{ flag_columns }} from flag_reviews
    where team_id is not null

),

penalty_lines as (

    select
        period,
        level,
        subject_id,
        flag_id,
        rule_id,
        penalty_points,
        row_number() over (partition by period, level, subject_id order by rule_id, flag_id) as line_no
    from subject_flag_rows
    where level = 'rep'
        and review_status = 'confirmed'
        and penalty_points > 0

),

penalties as (

    select
        period,
        level,
        subject_id,
        count(*) as penalty_lines
    from penalty_lines
    group by period, level, subject_id

),

holds as (

    select
        period,
        level,
        subject_id,
        {{ ordered_listagg(dbt.concat(['rule_id', "' '", 'flag_id']), "', '", 5) }} as holding_list
    from subject_flag_rows
    where is_holding
    group by period, level, subject_id

),

indicator_steps as (

    select
        *,
        row_number() over (
            partition by period, level, subject_id
            order by {{ analysis_catalogue_position('indicator') }}
        ) as step_no
    from lines

),

graded as (

    select
        subjects.*,
        coalesce(penalties.penalty_lines, 0) as penalty_lines,
        holds.holding_list
    from subjects
    left join penalties
        on subjects.period = penalties.period
        and subjects.level = penalties.level
        and subjects.subject_id = penalties.subject_id
    left join holds
        on subjects.period = holds.period
        and subjects.level = holds.level
        and subjects.subject_id = holds.subject_id

),

indicator_rows as (

    select
        graded.period,
        graded.grain,
        graded.level,
        graded.subject_id,
        graded.subject_name,
        graded.team_id,
        graded.scheme_id,
        indicator_steps.step_no,
        'indicator' as step,
        indicator_steps.indicator,
        indicator_steps.method,
        indicator_steps.value,
        indicator_steps.sample_size,
        indicator_steps.is_sufficient,
        indicator_steps.score,
        indicator_steps.weight,
        indicator_steps.counts_in_composite,
        cast(indicator_steps.amount as decimal(38, 20)) as amount,
        cast(null as {{ dbt.type_string() }}) as grade,
        indicator_steps.disclosure,
        {%- set step_parts = {
            'indicator': report_trace_label('indicator', 'indicator_steps.indicator'),
            'value': analysis_number('indicator_steps.value', 2),
            'unit': analysis_value_unit('indicator_steps.indicator') if report_language() == 'en'
                else report_value_unit('indicator_steps.indicator'),
            'sample': dbt.cast('indicator_steps.sample_size', dbt.type_string()),
            'score': analysis_number('indicator_steps.score', 4), 'method': 'indicator_steps.method',
            'weight': analysis_number('indicator_steps.weight', 4), 'amount': analysis_number('indicator_steps.amount', 4),
            'min_sample': dbt.cast('indicator_steps.min_sample', dbt.type_string()),
        } %}
        case
            when indicator_steps.counts_in_composite then {{ report_sentence('step_indicator', step_parts) }}
            when indicator_steps.value is null and indicator_steps.indicator = 'sales_attainment'
                then {{ report_sentence('step_no_target', step_parts) }}
            when indicator_steps.value is null then {{ report_sentence('step_no_events', step_parts) }}
            else {{ report_sentence('step_thin', step_parts) }}
        end as explanation
    from graded
    inner join indicator_steps
        on graded.period = indicator_steps.period
        and graded.level = indicator_steps.level
        and graded.subject_id = indicator_steps.subject_id

),

summary_rows as (

    {%- set summary_steps = [
        ('weighted_sum', 1, 'weighted_sum',
            report_sentence('step_weighted_sum', {'n': dbt.cast('counted_indicators', dbt.type_string()),
                            'sum': "coalesce(" ~ analysis_number('weighted_sum', 4) ~ ", '0')"})),
        ('coverage', 2, 'coverage',
            report_sentence('step_coverage', {'coverage': analysis_number('coverage', 4),
                            'minimum': analysis_number(var('coverage_min'), 4)})),
        ('composite', 3, 'composite_score',
            "case when composite_score is null then " ~ report_word('step_no_composite') ~ " else "
            ~ report_sentence('step_composite', {'composite': analysis_number('composite_score', 10)}) ~ " end"),
        ('progress', 4, 'progress_points',
            "case when composite_score is null then " ~ report_word('step_progress_no_composite')
            ~ " when previous_composite_score is null then " ~ report_word('step_progress_no_previous') ~ " else "
            ~ report_sentence('step_progress', {
                'composite': analysis_number('composite_score', 4),
                'previous': analysis_number('previous_composite_score', 4), 'previous_period': 'previous_period',
                'change': analysis_number('composite_score - previous_composite_score', 4),
                'points': analysis_number('progress_points', 2), 'per': "'" ~ var('progress_points') ~ "'",
                'step': "'" ~ var('progress_per_points') ~ "'", 'max': "'" ~ var('progress_max') ~ "'",
            }) ~ " end"),
        ('adjustment', 5, 'adjustment_points',
            report_sentence('step_adjustment', {
                'raw': analysis_number('adjustment_raw_points', 2),
                'relation': "case when adjustment_raw_points <> adjustment_points then "
                    ~ report_word('adjustment_clamped') ~ " else " ~ report_word('adjustment_equal') ~ " end",
                'points': analysis_number('adjustment_points', 2), 'max': "'" ~ var('adjust_max_abs') ~ "'",
            })),
        ('final_score', 6, 'final_score',
            "case when not is_graded then " ~ report_word('step_not_graded') ~ " else "
            ~ report_sentence('step_final', {
                'penalties': "case when penalty_lines > 0 then " ~ report_word('minus_penalties') ~ " else '' end",
                'total': analysis_number('unrounded_total', 10), 'final': dbt.cast('final_score', dbt.type_string()),
            }) ~ " end"),
        ('grade', 7, 'band_min_score',
            "case when not is_graded then " ~ report_trace_label('grade', "'insufficient_data'")
            ~ " when band_min_score is null then "
            ~ report_sentence('step_grade_lowest', {'grade': report_trace_label('grade', 'grade')}) ~ " else "
            ~ report_sentence('step_grade', {
                'grade': report_trace_label('grade', 'grade'), 'final': dbt.cast('final_score', dbt.type_string()),
                'minimum': dbt.cast('band_min_score', dbt.type_string()),
            }) ~ " end"),
        ('bonus_coefficient', 8, 'bonus_coefficient',
            "case when not is_graded then " ~ report_word('step_bonus_not_graded')
            ~ " when holding_flags > 0 then " ~ report_word('step_bonus_held') ~ " else "
            ~ report_sentence('step_bonus', {
                'grade': report_trace_label('grade', 'grade'),
                'bonus': "coalesce(" ~ dbt.cast('bonus_coefficient', dbt.type_string()) ~ ", "
                    ~ report_word('no_bonus') ~ ")",
            }) ~ " end"),
    ] %}
    {%- for step, offset, amount, explanation in summary_steps %}
    select
        {{ score_step_line(
            'indicator_steps + ' ~ offset ~ (' + penalty_lines' if offset > 5 else ''), step, explanation,
            amount=amount, grade='grade' if step == 'grade' else 'null'
        ) }}
    from graded
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}

),

review_rows as (

    -- penalties (after the adjustment), then exclusions and the hold (after the bonus coefficient)
    select
        {{ score_step_line(
            'graded.indicator_steps + 5 + penalty_lines.line_no', 'penalty',
            report_sentence('step_penalty', {
                'rule': report_trace_label('rule', 'penalty_lines.rule_id'), 'flag': 'penalty_lines.flag_id',
                'points': analysis_number('penalty_lines.penalty_points', 2),
            }),
            amount='-penalty_lines.penalty_points'
        ) }}
    from graded
    inner join penalty_lines
        on graded.period = penalty_lines.period
        and graded.level = penalty_lines.level
        and graded.subject_id = penalty_lines.subject_id

    union all

    select
        {{ score_step_line(
            'graded.indicator_steps + graded.penalty_lines + 8 + row_number() over ('
            ~ ' partition by graded.period, graded.level, graded.subject_id'
            ~ ' order by excluded.rule_id, excluded.flag_id)',
            'excluded_responses',
            report_sentence('step_excluded', {
                'rule': report_trace_label('rule', 'excluded.rule_id'), 'flag': 'excluded.flag_id',
                'n': dbt.cast('excluded.excluded_responses', dbt.type_string()), 'rep': 'excluded.rep_id',
            }),
            sample_size='excluded.excluded_responses'
        ) }}
    from graded
    inner join subject_flag_rows as excluded
        on graded.period = excluded.period
        and graded.level = excluded.level
        and graded.subject_id = excluded.subject_id
    where excluded.excluded_responses > 0

    union all

    select
        {{ score_step_line(
            'graded.indicator_steps + graded.penalty_lines + 1000000', 'held',
            report_sentence('step_held', {
                'n': dbt.cast('graded.holding_flags', dbt.type_string()), 'flags': 'graded.holding_list',
                'more': "case when graded.holding_flags > 5 then ', ...' else '' end",
            }),
            sample_size='graded.holding_flags'
        ) }}  -- last (renumbered below)
    from graded
    where graded.holding_flags > 0

),

all_rows as (

    select * from indicator_rows
    union all
    select * from summary_rows
    union all
    select * from review_rows

),

final as (

    -- numbered 1, 2, 3, ... per subject in the order above
    select
        period, grain, level, subject_id, subject_name, team_id, scheme_id,
        row_number() over (partition by period, level, subject_id order by step_no, explanation) as step_no,
        step, indicator, method, value, sample_size, is_sufficient, score, weight, counts_in_composite, amount,
        grade, disclosure, explanation
    from all_rows

)

select * from final
