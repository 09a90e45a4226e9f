-- Per rep and period, up to three strengths and up to three improvement points, each with a sentence
-- an HR partner can paste into a review.
--   Only published, sufficient rep figures take part (marts.indicator_values): a figure hidden by the
--   small-cell rule or by complementary suppression is neither ranked, nor in the team median, nor
--   mentioned. Every catalogue indicator takes part, weighted in the scheme or not.
--   rank_in_team: among the team's reps with such a figure, best first (lower is better for
--   complaint_rate and median_response_hours), ties share the best rank; reps_ranked: how many.
--   team_median: median of those reps' values (continuous: mean of the two middle ones).
--   gap_to_median: how far the rep is worse than the team median (> 0 worse, < 0 better), in the
--   indicator's unit; normalised_gap = gap / the indicator's scale (100 for %, 200 for nps points, and
--   0 up to the team's largest value for counts and hours) so that gaps of different units compare.
--   Comparisons are made at 6 decimals (SCORING.md "Precise readings"; macros/compare_value.sql): ranks
--   order the values rounded to 6 decimals (noise ties), gap_to_median is taken between the value and
--   the median rounded to 6 decimals (a rep 1e-13 off the median is at the median: neither strength
--   nor improvement), and the orderings below compare normalised gaps at 6 decimals.
--   strength: better than the team median, with at least 2 reps ranked; the three with the best rank,
--   then the largest normalised lead, then the indicator id.
--   improvement: worse than the team median; the three with the largest normalised gap, then the
--   indicator id.
-- Numbers in sentences: 1 decimal, rounded half away from zero.
-- Flags (SCORING.md "From flag to decision"): an indicator whose figures are under an open or confirmed
-- flag of the rep in the period (macros/flag_reviews.sql anomaly_rule_indicators) is never a strength
-- (it may still be an improvement point).
-- depends_on: {{ ref('stg_cfg__closed_periods') }} (the refresh window, macros/refresh_window.sql)
with

indicator_values as (

    select * from {{ ref('indicator_values') }}
    where level = 'rep'
        and value is not null
        and is_sufficient

),

subjects as (

    select * from {{ ref('int_subjects_per_period') }}
    where level = 'rep'

),

rep_values as (

    select
        indicator_values.period,
        indicator_values.grain,
        indicator_values.subject_id as rep_id,
        subjects.subject_name as rep_name,
        subjects.team_id,
        indicator_values.indicator,
        indicator_values.value,
        indicator_values.sample_size,
        {{ analysis_direction('indicator_values.indicator') }} as direction
    from indicator_values
    inner join subjects
        on indicator_values.period = subjects.period
        and indicator_values.subject_id = subjects.subject_id
    where subjects.team_id is not null

),

rule_indicators as (

    {{ anomaly_rule_indicator_rows() }}

),

flagged_indicators as (

    select distinct
        flags.period,
        flags.rep_id,
        rule_indicators.indicator
    from {{ ref('int_anomaly_flag_reviews') }} as flags
    inner join rule_indicators
        on flags.rule_id = rule_indicators.rule_id
    where flags.review_status in ('open', 'confirmed')

),

team_medians as (

    select
        period,
        team_id,
        indicator,
        {{ median('value') }} as team_median,
        max(value) as team_max
    from rep_values
    group by period, team_id, indicator

),

ranked as (

    select
        rep_values.*,
        team_medians.team_median,
        team_medians.team_max,
        rank() over (
            partition by rep_values.period, rep_values.team_id, rep_values.indicator
            order by {{ compare_value('rep_values.value') }} * rep_values.direction desc
        ) as rank_in_team,
        count(*) over (partition by rep_values.period, rep_values.team_id, rep_values.indicator) as reps_ranked,
        {{ compare_gap('team_medians.team_median', 'rep_values.value') }} * rep_values.direction as gap_to_median
    from rep_values
    inner join team_medians
        on rep_values.period = team_medians.period
        and rep_values.team_id = team_medians.team_id
        and rep_values.indicator = team_medians.indicator

),

normalised as (

    select
        *,
        gap_to_median / nullif({{ analysis_scale('indicator', 'team_max') }}, 0) as normalised_gap
    from ranked

),

candidates as (

    select
        *,
        'strength' as feedback_type,
        row_number() over (
            partition by period, rep_id
            order by rank_in_team, {{ compare_value('normalised_gap') }}, indicator
        ) as position
    from normalised
    where {{ compare_value('gap_to_median') }} < 0
        and reps_ranked >= 2
        and not exists (
            select 1 from flagged_indicators
            where flagged_indicators.period = normalised.period
                and flagged_indicators.rep_id = normalised.rep_id
                and flagged_indicators.indicator = normalised.indicator
        )

    union all

    select
        *,
        'improvement' as feedback_type,
        row_number() over (
            partition by period, rep_id
            order by {{ compare_value('normalised_gap') }} desc, indicator
        ) as position
    from normalised
    where {{ compare_value('gap_to_median') }} > 0

),

worded as (

    select
        *,
        {{ analysis_number('value') }} as value_text,
        {{ analysis_number('team_median') }} as median_text,
        {{ analysis_number('abs(gap_to_median)') }} as gap_text,
        {{ analysis_ordinal('rank_in_team') }} as rank_text,
        {{ report_indicator_label('indicator') }} as indicator_label,
        {{ report_value_unit('indicator') }} as value_unit,
        {{ report_gap_unit('indicator') }} as gap_unit
    from candidates
    where position <= 3

),

{%- set sentence_parts = {
    'indicator': 'indicator_label', 'value': 'value_text', 'median': 'median_text', 'gap': 'gap_text',
    'unit': 'value_unit', 'gap_unit': 'gap_unit', 'rank': dbt.cast('rank_in_team', dbt.type_string()),
    'rank_ordinal': 'rank_text', 'reps': dbt.cast('reps_ranked', dbt.type_string()),
    'side': "case when direction = 1 then " ~ report_word('side_below') ~ " else " ~ report_word('side_above') ~ " end",
} %}
final as (

    select
        period,
        grain,
        rep_id,
        rep_name,
        team_id,
        feedback_type,
        position,
        indicator,
        value,
        sample_size,
        team_median,
        gap_to_median,
        normalised_gap,
        rank_in_team,
        reps_ranked,
        case
            when feedback_type = 'strength' then {{ report_sentence('feedback_strength', sentence_parts) }}
            else {{ report_sentence('feedback_improvement', sentence_parts) }}
        end as sentence
    from worded

)

select * from final
{{ refresh_window_filter() }}
