-- Anomaly rule inflated_self_report (SCORING.md): in a period, the rep's mean claimed satisfaction over
-- the customers that also answered a third_party survey is at least anomalies.inflated_self_report.min_gap
-- (default 1.0) point above those customers' mean third-party csat, with at least min_customers
-- (default 5) such customers.
-- Per rep and period: customers with a claimed_satisfaction in a self-report of the rep (contact_on in
-- the period) and a csat in a third_party response about the same rep (invitation rep, responded in
-- the period). Each customer weighs the same: its own mean claim and its own mean csat, then the mean
-- over customers (a customer with many self-reports cannot dominate). The gap is compared at 6 decimals
-- (compare_value, macros/compare_value.sql: 4.8 - 3.8 is 1.0, not 0.9999999999999996).
--   strength: the gap in points
--   severity: high when the gap reaches 2 x min_gap, else medium.
{%- set min_gap = anomaly_setting('inflated_self_report', 'min_gap') %}
{%- set min_customers = anomaly_setting('inflated_self_report', 'min_customers') %}

with

self_reports as (

    select * from {{ ref('int_anomaly_self_reports') }}
    where claimed_satisfaction is not null

),

excluded_responses as (

    -- a confirmed flag's responses (policy exclude_responses) leave this rule's survey baseline too
    select distinct response_id from {{ ref('int_excluded_responses') }}

),

third_party as (

    select survey.*
    from {{ ref('int_anomaly_survey_responses') }} as survey
    left join excluded_responses
        on survey.response_id = excluded_responses.response_id
    where excluded_responses.response_id is null
        and survey.channel = 'third_party'
        and survey.csat is not null

),

claims_per_customer as (

    select
        period,
        rep_id,
        customer_id,
        avg(cast(claimed_satisfaction as {{ type_double() }})) as mean_claimed
    from self_reports
    group by period, rep_id, customer_id

),

csat_per_customer as (

    select
        period,
        rep_id,
        customer_id,
        avg(cast(csat as {{ type_double() }})) as mean_csat
    from third_party
    group by period, rep_id, customer_id

),

paired as (

    select
        claims_per_customer.period,
        claims_per_customer.rep_id,
        claims_per_customer.customer_id,
        claims_per_customer.mean_claimed,
        csat_per_customer.mean_csat
    from claims_per_customer
    inner join csat_per_customer
        on claims_per_customer.period = csat_per_customer.period
        and claims_per_customer.rep_id = csat_per_customer.rep_id
        and claims_per_customer.customer_id = csat_per_customer.customer_id

),

per_rep as (

    select
        period,
        rep_id,
        count(*) as customers,
        avg(mean_claimed) as mean_claimed,
        avg(mean_csat) as mean_csat,
        {{ compare_value('avg(mean_claimed) - avg(mean_csat)') }} as gap
    from paired
    group by period, rep_id

),

flagged as (

    select * from per_rep
    where customers >= {{ min_customers }}
        and gap >= {{ compare_value(min_gap) }}

),

final as (

    select
        period,
        rep_id,
        cast(null as {{ dbt.type_string() }}) as customer_id,
        cast(null as {{ dbt.type_string() }}) as response_id,
        'inflated_self_report' as rule_id,
        case when gap >= {{ compare_value(2 * min_gap) }} then 'high' else 'medium' end as severity,
        cast(gap as {{ type_double() }}) as strength,
        {{ report_sentence('evidence_inflated_self_report', {
            'rep': 'rep_id', 'claimed': anomaly_number_text("mean_claimed", 2),
            'csat': anomaly_number_text("mean_csat", 2), 'customers': dbt.cast("customers", dbt.type_string()),
            'period': 'period', 'gap': anomaly_number_text("gap", 2), 'min_gap': "'" ~ min_gap ~ "'",
            'min_customers': "'" ~ min_customers ~ "'",
        }) }} as evidence
    from flagged

)

select * from final
