{#- Generic tests of the analysis marts.

    analysis_score_statement_matches_scorecard(model, scorecard): the steps of a score statement add
    up to the scorecard's figures exactly. Per subject and period, returns a row when
      - the sum of the counted indicator amounts differs from the weighted_sum step, or the sum of
        the counted weights from the coverage step (skipped where a counted amount is hidden: the
        unmasked intermediate model carries the same test for every subject),
      - weighted_sum / coverage (DECIMAL(38,10)) differs from the composite step,
      - round(composite + progress + adjustment + the penalty lines' amounts, 2) differs from the
        final_score step, or the penalty lines from the scorecard's penalty_points,
      - any summary step differs from the scorecard's composite_score, coverage, progress_points,
        adjustment_points, final_score, grade or bonus_coefficient,
      - a subject of the scorecard has no statement, or the other way round.
    Only the periods of the run's refresh window are compared (macros/refresh_window.sql): the others
    keep their published rows, which may differ from a recomputed intermediate model (closed periods). -#}
{% test analysis_score_statement_matches_scorecard(model, scorecard) %}

with

steps as (

    select * from {{ model }}
    where {{ in_refresh_window('period') }}

),

scorecard as (

    select * from {{ scorecard }}
    where {{ in_refresh_window('period') }}

),

indicator_sums as (

    select
        period,
        level,
        subject_id,
        sum(case when counts_in_composite then amount end) as amount_sum,
        sum(case when counts_in_composite then weight end) as weight_sum,
        sum(case when counts_in_composite and amount is null then 1 else 0 end) as hidden_counted_steps
    from steps
    where step = 'indicator'
    group by period, level, subject_id

),

summary as (

    select
        period,
        level,
        subject_id,
        max(case when step = 'weighted_sum' then amount end) as weighted_sum,
        max(case when step = 'coverage' then amount end) as coverage,
        max(case when step = 'composite' then amount end) as composite_score,
        max(case when step = 'progress' then amount end) as progress_points,
        max(case when step = 'adjustment' then amount end) as adjustment_points,
        max(case when step = 'final_score' then amount end) as final_score,
        max(case when step = 'grade' then grade end) as grade,
        max(case when step = 'bonus_coefficient' then amount end) as bonus_coefficient,
        coalesce(sum(case when step = 'penalty' then amount end), 0) as penalty_amount
    from steps
    group by period, level, subject_id

),

compared as (

    select
        coalesce(summary.period, scorecard.period) as period,
        coalesce(summary.level, scorecard.level) as level,
        coalesce(summary.subject_id, scorecard.subject_id) as subject_id,
        summary.weighted_sum,
        indicator_sums.amount_sum,
        summary.coverage,
        indicator_sums.weight_sum,
        coalesce(indicator_sums.hidden_counted_steps, 0) as hidden_counted_steps,
        summary.composite_score,
        scorecard.composite_score as scorecard_composite_score,
        summary.progress_points,
        summary.adjustment_points,
        summary.penalty_amount,
        scorecard.penalty_points as scorecard_penalty_points,
        summary.final_score,
        scorecard.final_score as scorecard_final_score,
        summary.grade,
        scorecard.grade as scorecard_grade,
        summary.bonus_coefficient,
        scorecard.bonus_coefficient as scorecard_bonus_coefficient,
        scorecard.coverage as scorecard_coverage,
        scorecard.progress_points as scorecard_progress_points,
        scorecard.adjustment_points as scorecard_adjustment_points,
        summary.subject_id is null as is_missing_statement,
        scorecard.subject_id is null as is_missing_scorecard
    from summary
    left join indicator_sums
        on summary.period = indicator_sums.period
        and summary.level = indicator_sums.level
        and summary.subject_id = indicator_sums.subject_id
    full outer join scorecard
        on summary.period = scorecard.period
        and summary.level = scorecard.level
        and summary.subject_id = scorecard.subject_id

),

final as (

    select * from compared
    where is_missing_statement
        or is_missing_scorecard
        or (hidden_counted_steps = 0 and weighted_sum is distinct from amount_sum)
        or (hidden_counted_steps = 0 and coverage <> coalesce(weight_sum, 0))
        or cast(weighted_sum / nullif(coverage, 0) as decimal(38, 10)) is distinct from composite_score
        or (final_score is not null
            and cast(round(composite_score + progress_points + adjustment_points + penalty_amount, 2) as decimal(18, 2))
                <> final_score)
        or -penalty_amount <> coalesce(scorecard_penalty_points, 0)
        or composite_score is distinct from scorecard_composite_score
        or coverage <> scorecard_coverage
        or progress_points <> scorecard_progress_points
        or adjustment_points <> scorecard_adjustment_points
        or final_score is distinct from scorecard_final_score
        or grade is distinct from scorecard_grade
        or bonus_coefficient is distinct from scorecard_bonus_coefficient

)

select * from final

{% endtest %}
