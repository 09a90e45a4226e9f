-- Score of each sufficient indicator of a graded subject (rep or team), by the method its scheme gives
-- it in cfg_scheme_weights (scheme_id = the team's business_stage), with the indicator's weight.
--   value           score = value, at most cap
--   ratio_to_target score = value / target x 100, at most cap
--   penalty_above   score = max - per_unit x (value - threshold) above threshold, clamped to min..max
--   penalty_below   score = max - per_unit x (threshold - value) below threshold, clamped to min..max
--   piecewise       linear between the cfg_scoring_points (ascending x), flat outside them
-- Defaults where a parameter is empty: max 100, min 0, per_unit 1, threshold 0, no cap.
-- Scores are DOUBLE here; the scorecard casts them to DECIMAL before weighting.
with

indicator_values as (

    select * from {{ ref('int_indicator_values') }}
    where level in ('rep', 'team')

),

subjects as (

    select * from {{ ref('int_subjects_per_period') }}
    where level in ('rep', 'team')

),

weights as (

    select * from {{ ref('stg_cfg__scheme_weights') }}

),

points as (

    select * from {{ ref('stg_cfg__scoring_points') }}

),

segments as (

    select
        scheme_id,
        indicator,
        x as x_from,
        y as y_from,
        lead(x) over (partition by scheme_id, indicator order by seq) as x_to,
        lead(y) over (partition by scheme_id, indicator order by seq) as y_to
    from points

),

point_bounds as (

    select
        scheme_id,
        indicator,
        min(x) as first_x,
        max(x) as last_x
    from points
    group by scheme_id, indicator

),

point_ends as (

    select
        point_bounds.scheme_id,
        point_bounds.indicator,
        point_bounds.first_x,
        point_bounds.last_x,
        max(case when points.x = point_bounds.first_x then points.y end) as first_y,
        max(case when points.x = point_bounds.last_x then points.y end) as last_y
    from point_bounds
    inner join points
        on point_bounds.scheme_id = points.scheme_id
        and point_bounds.indicator = points.indicator
    group by 1, 2, 3, 4

),

configured as (

    select
        indicator_values.period,
        indicator_values.level,
        indicator_values.subject_id,
        indicator_values.indicator,
        indicator_values.value,
        indicator_values.is_sufficient,
        subjects.scheme_id,
        coalesce(weights.weight, 0) as weight,
        coalesce(weights.method, 'value') as method,
        weights.target,
        weights.cap,
        coalesce(weights.threshold, 0) as threshold,
        coalesce(weights.per_unit, 1) as per_unit,
        coalesce(weights.max_score, 100) as max_score,
        coalesce(weights.min_score, 0) as min_score
    from indicator_values
    inner join subjects
        on indicator_values.period = subjects.period
        and indicator_values.level = subjects.level
        and indicator_values.subject_id = subjects.subject_id
    left join weights
        on subjects.scheme_id = weights.scheme_id
        and indicator_values.indicator = weights.indicator

),

piecewise_scores as (

    select
        configured.period,
        configured.level,
        configured.subject_id,
        configured.indicator,
        case
            when configured.value <= point_ends.first_x then point_ends.first_y
            when configured.value >= point_ends.last_x then point_ends.last_y
            else segments.y_from
                + (configured.value - segments.x_from) * (segments.y_to - segments.y_from)
                / (segments.x_to - segments.x_from)
        end as piecewise_score
    from configured
    inner join point_ends
        on configured.scheme_id = point_ends.scheme_id
        and configured.indicator = point_ends.indicator
    left join segments
        on configured.scheme_id = segments.scheme_id
        and configured.indicator = segments.indicator
        -- half-open segments [x_from, x_to): a value inside the points matches exactly one
        and configured.value >= segments.x_from
        and configured.value < segments.x_to
    where configured.method = 'piecewise'

),

raw_scores as (

    select
        configured.*,
        case configured.method
            when 'value' then configured.value
            when 'ratio_to_target' then configured.value / nullif(configured.target, 0) * 100
            when 'penalty_above' then
                case
                    when configured.value <= configured.threshold then configured.max_score
                    else configured.max_score - configured.per_unit * (configured.value - configured.threshold)
                end
            when 'penalty_below' then
                case
                    when configured.value >= configured.threshold then configured.max_score
                    else configured.max_score - configured.per_unit * (configured.threshold - configured.value)
                end
            when 'piecewise' then piecewise_scores.piecewise_score
        end as unbounded_score
    from configured
    left join piecewise_scores
        on configured.period = piecewise_scores.period
        and configured.level = piecewise_scores.level
        and configured.subject_id = piecewise_scores.subject_id
        and configured.indicator = piecewise_scores.indicator

),

bounded as (

    select
        *,
        case
            when method in ('value', 'ratio_to_target') and cap is not null and unbounded_score > cap then cap
            when method in ('penalty_above', 'penalty_below') and unbounded_score > max_score then max_score
            when method in ('penalty_above', 'penalty_below') and unbounded_score < min_score then min_score
            else unbounded_score
        end as bounded_score
    from raw_scores

),

final as (

    select
        period,
        level,
        subject_id,
        indicator,
        scheme_id,
        method,
        value,
        is_sufficient,
        case when is_sufficient then bounded_score end as score,
        weight,
        is_sufficient and weight > 0 and bounded_score is not null as counts_in_composite
    from bounded

)

select * from final
