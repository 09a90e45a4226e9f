-- Anomaly rule complaint_underreporting (SCORING.md): the rep's self-reported complaints are far fewer
-- than the complaint tickets of the rep's customers, compared with the ratio of the rep's peers.
-- Per rep and period: tickets = complaint tickets attributed to the rep (the ticket's rep_id, else the
-- customer's owner: int_tickets_assigned) opened in the period; reported = the rep's self-reported
-- records of kind `complaint` with contact_on in the period. Peers = every other rep of the company in
-- the same period (leave-one-out): peer_ratio = their reported / their tickets. Under the null
-- hypothesis "the rep reports like the peers", reported ~ Poisson(expected = tickets x peer_ratio)
-- (the Poisson lower tail is at least the binomial one: conservative). Flag when
--   tickets >= anomalies.complaint_underreporting.min_tickets (default 5),
--   P(X <= reported) < 1 - confidence (default 0.99: exact Poisson sum), and
--   reported / tickets <= max_ratio_to_peers (default 0.5) x peer_ratio ("far fewer", an effect size).
--   strength: expected - reported (the complaint reports missing against the peers' ratio)
--   severity: high p < 0.001, medium p < 0.01, else low.
-- p-value and ratio are compared at 6 decimals (macros/compare_value.sql): 2 reports of 10 tickets
-- against 0.5 x a peer ratio of 0.4 is at the limit (2 <= 2), whatever the last bit of 0.5 x 0.4 x 10.
{%- set min_tickets = anomaly_setting('complaint_underreporting', 'min_tickets') %}
{%- set alpha = anomaly_alpha('complaint_underreporting') %}
{%- set max_ratio = anomaly_setting('complaint_underreporting', 'max_ratio_to_peers') %}
{%- set max_count = 10000 %}

with

tickets as (

    select * from {{ ref('int_tickets_assigned') }}
    where is_complaint
        and rep_id is not null

),

self_reports as (

    select * from {{ ref('int_anomaly_self_reports') }}
    where is_complaint

),

integers as (

    {{ integers_with_ln_factorial(max_count) }}

),

tickets_per_rep as (

    select period, rep_id, count(*) as complaint_tickets
    from tickets
    group by period, rep_id

),

reports_per_rep as (

    select period, rep_id, count(*) as reported_complaints
    from self_reports
    group by period, rep_id

),

per_rep as (

    select
        coalesce(tickets_per_rep.period, reports_per_rep.period) as period,
        coalesce(tickets_per_rep.rep_id, reports_per_rep.rep_id) as rep_id,
        coalesce(tickets_per_rep.complaint_tickets, 0) as complaint_tickets,
        coalesce(reports_per_rep.reported_complaints, 0) as reported_complaints
    from tickets_per_rep
    full outer join reports_per_rep
        on tickets_per_rep.period = reports_per_rep.period
        and tickets_per_rep.rep_id = reports_per_rep.rep_id

),

with_peers as (

    select
        *,
        sum(complaint_tickets) over (partition by period) - complaint_tickets as peer_tickets,
        sum(reported_complaints) over (partition by period) - reported_complaints as peer_reported
    from per_rep

),

tests as (

    select
        period,
        rep_id,
        complaint_tickets,
        reported_complaints,
        peer_tickets,
        peer_reported,
        cast(peer_reported as {{ type_double() }}) / peer_tickets as peer_ratio,
        cast(reported_complaints as {{ type_double() }}) / complaint_tickets as rep_ratio,
        complaint_tickets * (cast(peer_reported as {{ type_double() }}) / peer_tickets) as expected
    from with_peers
    where complaint_tickets >= {{ min_tickets }}
        and peer_tickets > 0
        and peer_reported > 0
        and reported_complaints <= {{ max_count }}

),

lower_tails as (

    select
        tests.period,
        tests.rep_id,
        sum(exp({{ poisson_log_pmf('integers.n', 'tests.expected', 'integers.ln_factorial') }})) as p_value
    from tests
    inner join integers
        on integers.n <= tests.reported_complaints
    group by tests.period, tests.rep_id

),

flagged as (

    select
        tests.*,
        case when lower_tails.p_value > 1 then 1.0 else lower_tails.p_value end as p_value
    from tests
    inner join lower_tails
        on tests.period = lower_tails.period
        and tests.rep_id = lower_tails.rep_id
    where {{ compare_value('lower_tails.p_value') }} < {{ compare_value(alpha) }}
        and {{ compare_value('tests.reported_complaints') }}
            <= {{ compare_value(max_ratio ~ ' * tests.peer_ratio * tests.complaint_tickets') }}

),

final as (

    select
        period,
        rep_id,
        cast(null as {{ dbt.type_string() }}) as customer_id,
        cast(null as {{ dbt.type_string() }}) as response_id,
        'complaint_underreporting' as rule_id,
        {{ anomaly_severity_from_p('p_value') }} as severity,
        expected - reported_complaints as strength,
        {{ report_sentence('evidence_complaint_underreporting', {
            'rep': 'rep_id', 'reported': dbt.cast("reported_complaints", dbt.type_string()), 'period': 'period',
            'tickets': dbt.cast("complaint_tickets", dbt.type_string()),
            'rep_ratio': anomaly_number_text("rep_ratio", 2), 'peer_ratio': anomaly_number_text("peer_ratio", 2),
            'peer_reported': dbt.cast("peer_reported", dbt.type_string()),
            'peer_tickets': dbt.cast("peer_tickets", dbt.type_string()),
            'expected': anomaly_number_text("expected", 2), 'p': anomaly_p_text("p_value"),
            'alpha': "'" ~ alpha ~ "'",
        }) }} as evidence
    from flagged

)

select * from final
