-- Every evaluated period x subject x catalogue indicator with its unrounded value, sample size and
-- sufficiency, before any masking (the audit layer publishes this as is; marts mask it).
-- value: numerator / denominator x 100 for rates and nps; the count for new_customers; the median for
-- median_response_hours (numerator NULL, denominator = sample_size = answered interactions).
-- sales_attainment has a value (0 without won deals) whenever a target exists.
-- pending: events behind complaint_resolution_24h, response_sla_rate and followup_completion whose limit
-- has not run out at as-of and that are not yet resolved / answered / completed; they are in neither
-- numerator, denominator nor sample_size. 0 for every other indicator and without events.
with

subjects as (

    select * from {{ ref('int_subjects_per_period') }}

),

aggregated as (

    select * from {{ ref('int_indicator_aggregated') }}

),

catalogue as (

    {%- for indicator in indicator_catalogue() %}
    select '{{ indicator }}' as indicator {% if not loop.last %}union all{% endif %}
    {%- endfor %}

),

spine as (

    select
        subjects.period,
        subjects.grain,
        subjects.level,
        subjects.subject_id,
        catalogue.indicator
    from subjects
    cross join catalogue

),

joined as (

    select
        spine.period,
        spine.grain,
        spine.level,
        spine.subject_id,
        spine.indicator,
        case
            when spine.indicator = 'median_response_hours' then null
            when spine.indicator = 'sales_attainment' and aggregated.denominator > 0
                then coalesce(aggregated.numerator, 0)
            else aggregated.numerator
        end as numerator,
        aggregated.denominator,
        coalesce(aggregated.sample_size, 0) as sample_size,
        coalesce(aggregated.pending, 0) as pending,
        aggregated.promoters,
        aggregated.detractors,
        aggregated.median_response_hours
    from spine
    left join aggregated
        on spine.period = aggregated.period
        and spine.level = aggregated.level
        and spine.subject_id = aggregated.subject_id
        and spine.indicator = aggregated.indicator

),

valued as (

    select
        *,
        case
            when indicator = 'median_response_hours' then median_response_hours
            when indicator = 'new_customers' and sample_size > 0 then cast(numerator as {{ type_double() }})
            when denominator > 0 then cast(numerator as {{ type_double() }}) / cast(denominator as {{ type_double() }}) * 100
        end as value
    from joined

),

judged as (

    select
        *,
        case
            when value is null then false
            when indicator = 'sales_attainment' then denominator > 0
            when indicator in ('collection_rate', 'new_customers') then sample_size >= 1
            else sample_size >= {{ min_sample_for('indicator') }}
        end as is_sufficient
    from valued

),

nps_shares as (

    select
        *,
        case
            when indicator in ('nps', 'key_account_nps') and denominator > 0
                then 1.96 * 100 * sqrt(greatest(0.0,
                    (
                        (promoters + detractors) / cast(denominator as {{ type_double() }})
                        - power((promoters - detractors) / cast(denominator as {{ type_double() }}), 2)
                    ) / cast(denominator as {{ type_double() }})
                ))
        end as nps_ci_half_width
    from judged

),

final as (

    select
        period,
        grain,
        level,
        subject_id,
        indicator,
        numerator,
        denominator,
        value,
        sample_size,
        pending,
        is_sufficient,
        case when nps_ci_half_width is not null then greatest(-100.0, value - nps_ci_half_width) end as nps_ci_low,
        case when nps_ci_half_width is not null then least(100.0, value + nps_ci_half_width) end as nps_ci_high,
        case when indicator in ('nps', 'key_account_nps') then promoters end as promoters,
        case when indicator in ('nps', 'key_account_nps') then detractors end as detractors
    from nps_shares

)

select * from final
