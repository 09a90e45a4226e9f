-- The flags of the two rules that are about given survey responses, self_filled_survey and
-- speeder_burst, with their stable flag_id (macros/flag_reviews.sql). They are detected on every
-- response, excluded or not: a confirmed flag never removes its own evidence. Their confirmed flags
-- decide which responses leave the survey figures (int_excluded_responses), before the other rules
-- run on what is left (int_anomaly_flags unions them all).
-- Kept by period (dbt_project.yml): a run rebuilds the rows of its refresh window and keeps the other
-- periods' rows, so that every flag stays known to the review decisions and `scorecard review`.
-- depends_on: {{ ref('stg_cfg__closed_periods') }} (the refresh window, macros/refresh_window.sql)
with

final as (

    {{ anomaly_flag_rows(['int_anomaly_self_filled_survey', 'int_anomaly_speeder_burst']) }}

)

select * from final
{{ refresh_window_filter() }}
