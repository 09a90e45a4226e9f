-- The responses of anomaly rule speeder_burst (int_anomaly_speeder_burst): every response with a rep,
-- whether it is timed and whether it is a speeder, faster than anomalies.speeder_burst.
-- speeder_share_of_median (default 0.3) x the median duration of its channel (all responses with a
-- duration). Its own model because int_anomaly_flag_responses names the speeders behind a flag too.
{%- set share = anomaly_setting('speeder_burst', 'speeder_share_of_median') %}

with

responses as (

    select * from {{ ref('int_anomaly_survey_responses') }}
    where rep_id is not null

),

channel_medians as (

    select
        channel,
        {{ median('duration_seconds') }} as median_duration
    from responses
    where duration_seconds is not null
    group by channel

),

final as (

    select
        responses.*,
        responses.duration_seconds is not null as is_timed,
        -- at 6 decimals (macros/compare_value.sql): 0.3 x a median of 100 is 30, not 30.000000000000004
        coalesce(
            {{ compare_value('responses.duration_seconds') }} < {{ compare_value(share ~ ' * channel_medians.median_duration') }},
            false
        ) as is_speeder
    from responses
    left join channel_medians
        on responses.channel = channel_medians.channel

)

select * from final
