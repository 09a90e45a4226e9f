-- One line per graded subject (rep, team), period and indicator of int_indicator_scores: the indicator's
-- value, sample size, score by its scheme's method and weight, as DECIMAL(38,10), and, when it counts in
-- the composite (sufficient, weighted, scored, and published), its amount = weight x score
-- (DECIMAL(38,20), exact: 110 x 0.3 is 33). disclosure says whether a survey figure may be published
-- (int_analysis_disclosure); a hidden one never counts, so no composite can be inverted to give it back.
-- int_score_subjects adds the amounts up; int_analysis_score_steps shows the weighted lines.
{%- set decimal = 'decimal(38, 10)' %}
{%- set published = "coalesce(disclosure.disclosure, 'published') = 'published'" %}

with

scores as (

    select * from {{ ref('int_indicator_scores') }}

),

indicator_values as (

    select * from {{ ref('int_indicator_values') }}
    where level in ('rep', 'team')

),

disclosure as (

    select * from {{ ref('int_analysis_disclosure') }}

),

final as (

    select
        scores.period,
        scores.level,
        scores.subject_id,
        scores.indicator,
        scores.method,
        scores.value,
        coalesce(indicator_values.sample_size, 0) as sample_size,
        {{ min_sample_for('scores.indicator') }} as min_sample,
        scores.is_sufficient,
        cast(scores.score as {{ decimal }}) as score,
        cast(scores.weight as {{ decimal }}) as weight,
        scores.weight > 0 as is_weighted,
        scores.counts_in_composite and {{ published }} as counts_in_composite,
        case
            when scores.counts_in_composite and {{ published }}
                then cast(scores.weight as {{ decimal }}) * cast(scores.score as {{ decimal }})
        end as amount,
        coalesce(disclosure.disclosure, 'published') as disclosure,
        coalesce(disclosure.disclosure, 'published') = 'published' as is_published
    from scores
    left join indicator_values
        on scores.period = indicator_values.period
        and scores.level = indicator_values.level
        and scores.subject_id = indicator_values.subject_id
        and scores.indicator = indicator_values.indicator
    left join disclosure
        on scores.period = disclosure.period
        and scores.level = disclosure.level
        and scores.subject_id = disclosure.subject_id
        and scores.indicator = disclosure.indicator

)

select * from final
