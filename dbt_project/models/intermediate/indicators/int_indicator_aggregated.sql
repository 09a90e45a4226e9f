-- numerator / denominator / sample_size per (period, level, subject, indicator) for the rep, team and
-- company levels. A team or the company is aggregated from its events (sum of numerators over sum of
-- denominators), never from its reps' rates. Each unit (event, or customer for the distinct-customer
-- indicators) is first made unique within the subject, so a customer served by two reps counts once.
-- pending: events still within their limit at as-of (int_indicator_facts), in no other figure.
with

facts as (

    select * from {{ ref('int_indicator_facts') }}

),

units as (

    {%- for level, subject in [('rep', 'rep_id'), ('team', 'team_id'), ('company', "'company'")] %}
    select
        period,
        '{{ level }}' as level,
        {{ subject }} as subject_id,
        indicator,
        unit_id,
        max(numerator_value) as numerator_value,
        max(denominator_value) as denominator_value,
        max(in_sample) as in_sample,
        max(promoter_count) as promoter_count,
        max(detractor_count) as detractor_count,
        max(response_hours) as response_hours,
        max(pending) as pending
    from facts
    {%- if level != 'company' %}
    where {{ subject }} is not null
    {%- endif %}
    {#- a constant subject is not grouped by: PostgreSQL refuses a constant in GROUP BY #}
    group by period, {% if level != 'company' %}{{ subject }}, {% endif %}indicator, unit_id
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}

),

final as (

    select
        period,
        level,
        subject_id,
        indicator,
        sum(numerator_value) as numerator,
        sum(denominator_value) as denominator,
        sum(in_sample) as sample_size,
        sum(promoter_count) as promoters,
        sum(detractor_count) as detractors,
        {{ median('response_hours') }} as median_response_hours,
        sum(pending) as pending
    from units
    group by period, level, subject_id, indicator

)

select * from final
