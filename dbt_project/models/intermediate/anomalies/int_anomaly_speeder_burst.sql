-- Anomaly rule speeder_burst (SCORING.md): many top-score responses for one rep with implausibly short
-- durations or within a short window of each other. Per rep and period of responded_at, every channel.
-- Top score: nps >= anomalies.speeder_burst.top_nps (default 9, a promoter; int_anomaly_survey_responses).
-- 1. Speeders: a response faster than speeder_share_of_median (default 0.3) x the median duration of
--    its channel (all responses with a duration). Observed = the rep's top-score speeders; expected =
--    the rep's timed top-score responses x the share of speeders among the peers' timed top-score
--    responses (all other reps, same period): a rep with many promoters is not suspect for that alone.
--    Exact one-sided Poisson test P(X >= observed).
-- 2. Burst: the largest number of the rep's top-score responses within burst_minutes (default 30) of
--    the first one. Null hypothesis: the rep's top scores of the period arrive at random (Poisson
--    process over the period). Any window of length w lies inside one of the ceil(T / w) grid windows
--    of length 2w that start every w minutes, so P(some window holds >= k) <= ceil(T / w) x
--    P(Poisson(2 w x rate) >= k): a conservative scan-statistic p-value (union bound).
-- "Many for one rep" is read against every rep looked at: both p-values are multiplied by the number
-- of reps with a top-score response in the period (Bonferroni), so that the chance of flagging any
-- honest rep of the period stays below 1 - confidence (default 0.99). A criterion triggers with at
-- least min_responses (default 5) responses and an adjusted p < 1 - confidence.
--   strength: the count that triggered (the larger of the two when both do)
--   severity: high when both criteria trigger or adjusted p < 0.001, medium < 0.01, else low.
{%- set share = anomaly_setting('speeder_burst', 'speeder_share_of_median') %}
{%- set min_responses = anomaly_setting('speeder_burst', 'min_responses') %}
{%- set burst_minutes = anomaly_setting('speeder_burst', 'burst_minutes') %}
{%- set top_nps = anomaly_setting('speeder_burst', 'top_nps') %}
{%- set alpha = anomaly_alpha('speeder_burst') %}
{%- set max_count = 10000 %}

with

marked as (

    -- every response of a rep with is_timed / is_speeder (int_anomaly_speeder_marked)
    select * from {{ ref('int_anomaly_speeder_marked') }}

),

responses as (

    select * from marked

),

periods as (

    select
        period,
        ({{ dbt.datediff('period_start', 'period_end', 'day') }} + 1) * 1440 as period_minutes
    from {{ ref('int_periods_refreshed') }}

),

integers as (

    {{ integers_with_ln_factorial(max_count) }}

),

per_rep as (

    select
        period,
        rep_id,
        sum(case when is_top_score and is_timed then 1 else 0 end) as timed_top_responses,
        sum(case when is_top_score and is_speeder then 1 else 0 end) as top_speeders,
        sum(case when is_top_score then 1 else 0 end) as top_responses
    from marked
    group by period, rep_id

),

speed_tests as (

    select
        period,
        rep_id,
        timed_top_responses,
        top_speeders,
        top_responses,
        sum(case when top_responses > 0 then 1 else 0 end) over (partition by period) as reps_compared,
        cast(sum(top_speeders) over (partition by period) - top_speeders as {{ type_double() }})
            / nullif(sum(timed_top_responses) over (partition by period) - timed_top_responses, 0) as peer_rate
    from per_rep

),

speed_expected as (

    select
        *,
        timed_top_responses * peer_rate as expected_speeders
    from speed_tests

),

speed_below as (

    -- P(X <= observed - 1) for expected > 0; the upper tail is one minus it
    select
        speed_expected.period,
        speed_expected.rep_id,
        sum(exp({{ poisson_log_pmf('integers.n', 'speed_expected.expected_speeders', 'integers.ln_factorial') }}))
            as p_below
    from speed_expected
    inner join integers
        on integers.n < speed_expected.top_speeders
    where speed_expected.expected_speeders > 0
        and speed_expected.top_speeders >= {{ min_responses }}
        and speed_expected.top_speeders <= {{ max_count }}
    group by speed_expected.period, speed_expected.rep_id

),

speed_p as (

    select
        speed_expected.*,
        case
            when speed_expected.top_speeders < {{ min_responses }} or speed_expected.peer_rate is null then null
            when speed_expected.expected_speeders = 0 then 0.0
            when speed_below.p_below >= 1 then 0.0
            else 1.0 - speed_below.p_below
        end as speed_p_value
    from speed_expected
    left join speed_below
        on speed_expected.period = speed_below.period
        and speed_expected.rep_id = speed_below.rep_id

),

top_responses as (

    select period, rep_id, response_id, responded_at_utc, responded_at_local
    from responses
    where is_top_score

),

windows as (

    select
        first_response.period,
        first_response.rep_id,
        first_response.response_id,
        first_response.responded_at_utc as burst_start_utc,
        first_response.responded_at_local as burst_start_local,
        count(*) as burst_size,
        max(later.responded_at_local) as burst_end_local
    from top_responses as first_response
    inner join top_responses as later
        on first_response.rep_id = later.rep_id
        and later.responded_at_utc >= first_response.responded_at_utc
        and later.responded_at_utc <= {{ dbt.dateadd('minute', burst_minutes, 'first_response.responded_at_utc') }}
    group by
        first_response.period,
        first_response.rep_id,
        first_response.response_id,
        first_response.responded_at_utc,
        first_response.responded_at_local

),

ranked_windows as (

    select
        *,
        row_number() over (
            partition by period, rep_id order by burst_size desc, burst_start_local, response_id
        ) as burst_rank
    from windows

),

largest_burst as (

    select * from ranked_windows
    where burst_rank = 1

),

burst_tests as (

    select
        largest_burst.period,
        largest_burst.rep_id,
        largest_burst.burst_size,
        largest_burst.burst_start_utc,
        largest_burst.burst_start_local,
        largest_burst.burst_end_local,
        speed_p.top_responses,
        speed_p.reps_compared,
        ceiling(periods.period_minutes / cast({{ burst_minutes }} as {{ type_double() }})) as grid_windows,
        2.0 * {{ burst_minutes }} * speed_p.top_responses / periods.period_minutes as expected_in_grid_window
    from largest_burst
    inner join speed_p
        on largest_burst.period = speed_p.period
        and largest_burst.rep_id = speed_p.rep_id
    inner join periods
        on largest_burst.period = periods.period
    where largest_burst.burst_size >= {{ min_responses }}
        and largest_burst.burst_size <= {{ max_count }}

),

burst_below as (

    select
        burst_tests.period,
        burst_tests.rep_id,
        sum(exp({{ poisson_log_pmf('integers.n', 'burst_tests.expected_in_grid_window', 'integers.ln_factorial') }}))
            as p_below
    from burst_tests
    inner join integers
        on integers.n < burst_tests.burst_size
    group by burst_tests.period, burst_tests.rep_id

),

burst_p as (

    select
        burst_tests.*,
        case
            when burst_below.p_below >= 1 then 0.0
            when burst_tests.grid_windows * (1.0 - burst_below.p_below) > 1 then 1.0
            else burst_tests.grid_windows * (1.0 - burst_below.p_below)
        end as burst_p_value
    from burst_tests
    inner join burst_below
        on burst_tests.period = burst_below.period
        and burst_tests.rep_id = burst_below.rep_id

),

adjusted as (

    select
        speed_p.period,
        speed_p.rep_id,
        speed_p.timed_top_responses,
        speed_p.top_speeders,
        speed_p.top_responses,
        speed_p.reps_compared,
        speed_p.peer_rate,
        speed_p.expected_speeders,
        speed_p.speed_p_value,
        case
            when speed_p.speed_p_value * speed_p.reps_compared > 1 then 1.0
            else speed_p.speed_p_value * speed_p.reps_compared
        end as speed_p_adjusted,
        burst_p.burst_size,
        burst_p.burst_start_utc,
        burst_p.burst_start_local,
        burst_p.burst_end_local,
        burst_p.expected_in_grid_window,
        burst_p.burst_p_value,
        case
            when burst_p.burst_p_value * speed_p.reps_compared > 1 then 1.0
            else burst_p.burst_p_value * speed_p.reps_compared
        end as burst_p_adjusted
    from speed_p
    left join burst_p
        on speed_p.period = burst_p.period
        and speed_p.rep_id = burst_p.rep_id

),

combined as (

    select
        *,
        coalesce({{ compare_value('speed_p_adjusted') }} < {{ compare_value(alpha) }}, false) as is_speed_hit,
        coalesce({{ compare_value('burst_p_adjusted') }} < {{ compare_value(alpha) }}, false) as is_burst_hit
    from adjusted

),

flagged as (

    select
        *,
        case
            when is_speed_hit and is_burst_hit then
                case when speed_p_adjusted < burst_p_adjusted then speed_p_adjusted else burst_p_adjusted end
            when is_speed_hit then speed_p_adjusted
            else burst_p_adjusted
        end as p_value,
        case
            when is_speed_hit and is_burst_hit then
                case when top_speeders > burst_size then top_speeders else burst_size end
            when is_speed_hit then top_speeders
            else burst_size
        end as triggering_count
    from combined
    where is_speed_hit or is_burst_hit

),

final as (

    select
        period,
        rep_id,
        cast(null as {{ dbt.type_string() }}) as customer_id,
        cast(null as {{ dbt.type_string() }}) as response_id,
        'speeder_burst' as rule_id,
        case
            when is_speed_hit and is_burst_hit then 'high'
            else {{ anomaly_severity_from_p('p_value') }}
        end as severity,
        cast(triggering_count as {{ type_double() }}) as strength,
        {%- set speed = report_sentence('speeders', {
            'speeders': dbt.cast("top_speeders", dbt.type_string()), 'top_nps': "'" ~ top_nps ~ "'",
            'share': "'" ~ share ~ "'", 'timed': dbt.cast("timed_top_responses", dbt.type_string()),
            'peer_share': anomaly_number_text("100.0 * peer_rate", 2),
            'expected': anomaly_number_text("expected_speeders", 2), 'p': anomaly_p_text("speed_p_value"),
        }) %}
        {%- set burst = report_sentence('burst', {
            'size': dbt.cast("burst_size", dbt.type_string()), 'minutes': "'" ~ burst_minutes ~ "'",
            'start': dbt.cast("burst_start_local", dbt.type_string()),
            'end': dbt.cast("burst_end_local", dbt.type_string()), 'top': dbt.cast("top_responses", dbt.type_string()),
            'expected': anomaly_number_text("expected_in_grid_window", 4), 'window': "'" ~ 2 * burst_minutes ~ "'",
            'p': anomaly_p_text("burst_p_value"),
        }) %}
        {{ report_sentence('evidence_speeder_burst', {
            'rep': 'rep_id', 'period': 'period',
            'speed': "case when is_speed_hit then " ~ speed ~ " else '' end",
            'separator': "case when is_speed_hit and is_burst_hit then " ~ report_word('separator') ~ " else '' end",
            'burst': "case when is_burst_hit then " ~ burst ~ " else '' end",
            'reps': dbt.cast("reps_compared", dbt.type_string()), 'p': anomaly_p_text("p_value"),
            'alpha': "'" ~ alpha ~ "'",
        }) }} as evidence,
        -- which responses the flag is about (int_anomaly_flag_responses): the rep's top-score speeders
        -- of the period when the speed criterion triggered, the top scores of the largest burst when
        -- the burst criterion did
        is_speed_hit,
        is_burst_hit,
        burst_start_utc
    from flagged

)

select * from final
