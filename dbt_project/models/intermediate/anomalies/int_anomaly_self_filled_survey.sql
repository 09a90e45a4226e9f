-- Anomaly rule self_filled_survey (SCORING.md): a response's respondent_fingerprint matches one of the
-- rep's own fingerprints (crm/rep_devices), or one fingerprint answers for several different customers
-- of the same rep: at least anomalies.self_filled_survey.min_customers (default 3) distinct customers,
-- over all responses up to as-of (a device does not change owner with the period). Every channel
-- counts: a self-filled answer is suspect wherever it lands. "Rep" is the invitation's rep.
-- One flag per response, in the period of that response.
--   strength: the number of distinct customers of the rep answered from that fingerprint
--   severity: high when the fingerprint is a registered device of the rep, medium otherwise.
{%- set min_customers = anomaly_setting('self_filled_survey', 'min_customers') %}

with

responses as (

    select * from {{ ref('int_anomaly_survey_responses') }}
    where respondent_fingerprint is not null
        and rep_id is not null

),

devices as (

    select distinct rep_id, fingerprint
    from {{ ref('stg_crm__rep_devices') }}
    where fingerprint is not null

),

fingerprint_customers as (

    select distinct rep_id, respondent_fingerprint, customer_id
    from responses
    where customer_id is not null

),

per_fingerprint as (

    select
        rep_id,
        respondent_fingerprint,
        count(*) as customers,
        {{ ordered_listagg('customer_id', "', '", 6) }} as customer_list
    from fingerprint_customers
    group by rep_id, respondent_fingerprint

),

matched as (

    select
        responses.period,
        responses.rep_id,
        responses.customer_id,
        responses.response_id,
        responses.channel,
        responses.nps,
        responses.respondent_fingerprint,
        devices.fingerprint is not null as is_rep_device,
        coalesce(per_fingerprint.customers, 0) as customers,
        per_fingerprint.customer_list
    from responses
    left join devices
        on responses.rep_id = devices.rep_id
        and responses.respondent_fingerprint = devices.fingerprint
    left join per_fingerprint
        on responses.rep_id = per_fingerprint.rep_id
        and responses.respondent_fingerprint = per_fingerprint.respondent_fingerprint

),

flagged as (

    select * from matched
    where is_rep_device
        or customers >= {{ min_customers }}

),

final as (

    select
        period,
        rep_id,
        customer_id,
        response_id,
        'self_filled_survey' as rule_id,
        case when is_rep_device then 'high' else 'medium' end as severity,
        cast(customers as {{ type_double() }}) as strength,
        {{ report_sentence('evidence_self_filled_survey', {
            'response': 'response_id', 'customer': "coalesce(customer_id, " ~ report_word('unknown_customer_id') ~ ")",
            'channel': 'channel', 'nps': dbt.cast("nps", dbt.type_string()), 'fingerprint': 'respondent_fingerprint',
            'device': "case when is_rep_device then " ~ report_word('device_of_rep') ~ " else "
                ~ report_word('device_not_of_rep') ~ " end",
            'rep': 'rep_id', 'customers': dbt.cast("customers", dbt.type_string()),
            'customer_list': "coalesce(customer_list, '')", 'more': "case when customers > 6 then ', ...' else '' end",
            'min_customers': "'" ~ min_customers ~ "'",
        }) }} as evidence
    from flagged

)

select * from final
