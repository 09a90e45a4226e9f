-- Per team and period, each indicator where the team does worse than the company, with the gap and
-- the team's rank among the teams on that indicator, worst first.
--   Only published, sufficient figures take part (marts.indicator_values: a team figure hidden by
--   complementary suppression, or below its minimum sample, is neither compared nor ranked).
--   "Worse" follows the indicator's direction: below the company for most, above it for
--   complaint_rate and median_response_hours (lower_is_better_indicators).
--   reference_value is the company value; for new_customers, a count that grows with the size of the
--   subject, it is the company count divided by the number of teams evaluated in the period.
--   Comparisons are made at 6 decimals (SCORING.md "Precise readings"; macros/compare_value.sql): a team
--   whose value equals the reference at 6 decimals (a median 1e-13 off the company's) is no shortfall
--   and ties in rank.
--   gap = how far the team is worse than the reference, in the indicator's unit, taken between the two
--   values rounded to 6 decimals (compare_gap; >= 0.000001 here);
--   relative_gap = gap / |reference| (NULL when the reference is 0 at 6 decimals).
--   team_rank: 1 = best among the teams with a sufficient published value (ties at 6 decimals share
--   the best rank).
--   shortfall_rank: 1 = worst shortfall of the team in the period: a reference of 0 first, then by
--   relative_gap, then gap (both at 6 decimals), then the indicator id.
-- depends_on: {{ ref('stg_cfg__closed_periods') }} (the refresh window, macros/refresh_window.sql)
with

indicator_values as (

    select * from {{ ref('indicator_values') }}
    where value is not null
        and is_sufficient

),

subjects as (

    select * from {{ ref('int_subjects_per_period') }}
    where level = 'team'

),

weights as (

    select * from {{ ref('stg_cfg__scheme_weights') }}

),

team_counts as (

    select period, count(*) as teams_evaluated
    from subjects
    group by period

),

team_values as (

    select
        indicator_values.period,
        indicator_values.grain,
        indicator_values.subject_id as team_id,
        indicator_values.indicator,
        indicator_values.value,
        indicator_values.sample_size,
        {{ analysis_direction('indicator_values.indicator') }} as direction
    from indicator_values
    where indicator_values.level = 'team'

),

ranked as (

    select
        *,
        rank() over (partition by period, indicator order by {{ compare_value('value') }} * direction desc) as team_rank,
        count(*) over (partition by period, indicator) as teams_ranked
    from team_values

),

company_values as (

    select
        indicator_values.period,
        indicator_values.indicator,
        case
            when indicator_values.indicator = 'new_customers'
                then indicator_values.value / team_counts.teams_evaluated
            else indicator_values.value
        end as reference_value
    from indicator_values
    inner join team_counts
        on indicator_values.period = team_counts.period
    where indicator_values.level = 'company'

),

compared as (

    select
        ranked.period,
        ranked.grain,
        ranked.team_id,
        subjects.subject_name as team_name,
        subjects.scheme_id,
        ranked.indicator,
        case when ranked.direction = 1 then 'higher_is_better' else 'lower_is_better' end as direction,
        ranked.value as team_value,
        company_values.reference_value,
        {{ compare_gap('company_values.reference_value', 'ranked.value') }} * ranked.direction as gap,
        ranked.sample_size as team_sample_size,
        ranked.team_rank,
        ranked.teams_ranked
    from ranked
    inner join company_values
        on ranked.period = company_values.period
        and ranked.indicator = company_values.indicator
    left join subjects
        on ranked.period = subjects.period
        and ranked.team_id = subjects.subject_id

),

shortfalls as (

    select
        compared.*,
        case
            when {{ compare_value('compared.reference_value') }} <> 0 then compared.gap / abs(compared.reference_value)
        end as relative_gap,
        coalesce(weights.weight, 0) as weight
    from compared
    left join weights
        on compared.scheme_id = weights.scheme_id
        and compared.indicator = weights.indicator
    where {{ compare_value('compared.gap') }} > 0

),

final as (

    select
        period,
        grain,
        team_id,
        team_name,
        indicator,
        direction,
        team_value,
        reference_value,
        gap,
        relative_gap,
        team_sample_size,
        team_rank,
        teams_ranked,
        row_number() over (
            partition by period, team_id
            order by
                case when relative_gap is null then 0 else 1 end,
                {{ compare_value('relative_gap') }} desc,
                {{ compare_value('gap') }} desc,
                indicator
        ) as shortfall_rank,
        weight
    from shortfalls

)

select * from final
{{ refresh_window_filter() }}
