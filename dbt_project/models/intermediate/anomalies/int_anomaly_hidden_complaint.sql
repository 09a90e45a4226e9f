-- Anomaly rule hidden_complaint (SCORING.md): the rep logged `praise`, `neutral` or a claimed
-- satisfaction of 4-5 for a customer who opened a complaint ticket involving that rep (the ticket's
-- rep_id, or the customer's owner when it has none: int_tickets_assigned) within
-- anomalies.hidden_complaint.window_days (default 14) before or after the logged contact_on.
-- Records of kind `complaint` are not positive records: the rep did log a complaint.
-- One flag per rep x period of contact_on x customer.
--   strength: the number of distinct complaint tickets within the window of the rep's positive records
--   severity: low when the rep logged a `complaint` record for that customer within the window of
--             every one of those tickets (nothing hidden from the CRM, but a positive record sits next
--             to it); else high when a record is praise or claims 4-5, medium when only neutral.
{%- set window_days = anomaly_setting('hidden_complaint', 'window_days') %}

with

self_reports as (

    select * from {{ ref('int_anomaly_self_reports') }}

),

tickets as (

    select * from {{ ref('int_tickets_assigned') }}
    where is_complaint
        and rep_id is not null

),

ticket_times as (

    select ticket_id, opened_at_local from {{ ref('stg_tickets__tickets') }}

),

complaint_tickets as (

    select
        tickets.ticket_id,
        tickets.rep_id,
        tickets.customer_id,
        tickets.is_attributed_to_owner,
        cast(ticket_times.opened_at_local as date) as opened_on
    from tickets
    inner join ticket_times
        on tickets.ticket_id = ticket_times.ticket_id

),

positive_reports as (

    select * from self_reports
    where not is_complaint
        and (kind in ('praise', 'neutral') or claimed_satisfaction >= 4)

),

matched as (

    select
        positive_reports.period,
        positive_reports.rep_id,
        positive_reports.customer_id,
        positive_reports.record_id,
        positive_reports.kind,
        positive_reports.claimed_satisfaction,
        positive_reports.contact_on,
        complaint_tickets.ticket_id,
        complaint_tickets.opened_on,
        complaint_tickets.is_attributed_to_owner,
        {{ dbt.datediff('complaint_tickets.opened_on', 'positive_reports.contact_on', 'day') }} as days_after_ticket
    from positive_reports
    inner join complaint_tickets
        on positive_reports.rep_id = complaint_tickets.rep_id
        and positive_reports.customer_id = complaint_tickets.customer_id
        and {{ dbt.datediff('complaint_tickets.opened_on', 'positive_reports.contact_on', 'day') }}
            between -{{ window_days }} and {{ window_days }}

),

complaint_records as (

    select rep_id, customer_id, contact_on
    from self_reports
    where is_complaint

),

tickets_logged as (

    select distinct
        matched.ticket_id,
        matched.rep_id
    from matched
    inner join complaint_records
        on matched.rep_id = complaint_records.rep_id
        and matched.customer_id = complaint_records.customer_id
        and {{ dbt.datediff('matched.opened_on', 'complaint_records.contact_on', 'day') }}
            between -{{ window_days }} and {{ window_days }}

),

with_logging as (

    select
        matched.*,
        tickets_logged.ticket_id is not null as is_ticket_logged,
        case when matched.days_after_ticket < 0 then -matched.days_after_ticket else matched.days_after_ticket end
            as days_apart
    from matched
    left join tickets_logged
        on matched.ticket_id = tickets_logged.ticket_id
        and matched.rep_id = tickets_logged.rep_id

),

ranked as (

    select
        *,
        row_number() over (
            partition by period, rep_id, customer_id
            order by days_apart, contact_on, record_id, ticket_id
        ) as closeness_rank
    from with_logging

),

summarised as (

    select
        period,
        rep_id,
        customer_id,
        count(distinct ticket_id) as complaint_tickets,
        count(distinct record_id) as positive_records,
        count(distinct case when not is_ticket_logged then ticket_id end) as tickets_not_logged,
        max(case when kind = 'praise' or claimed_satisfaction >= 4 then 1 else 0 end) as has_positive_claim
    from with_logging
    group by period, rep_id, customer_id

),

closest as (

    select
        period,
        rep_id,
        customer_id,
        kind,
        ticket_id,
        is_attributed_to_owner,
        {{ dbt.cast("contact_on", dbt.type_string()) }} as contact_on_text,
        {{ dbt.cast("opened_on", dbt.type_string()) }} as opened_on_text,
        case kind
            {%- for kind in ['praise', 'neutral', 'suggestion'] %}
            when '{{ kind }}' then {{ report_word('kind_' ~ kind) }}
            {%- endfor %}
            else kind
        end as kind_text,
        case
            when claimed_satisfaction is null then {{ report_word('no_claim') }}
            else {{ report_sentence('claim', {'claimed': dbt.cast("claimed_satisfaction", dbt.type_string())}) }}
        end as claim_text,
        {%- set days = dbt.cast("days_apart", dbt.type_string()) %}
        case
            when days_after_ticket = 0 then {{ report_word('timing_same_day') }}
            when days_after_ticket > 0 then {{ report_sentence('timing_after', {'days': days}) }}
            else {{ report_sentence('timing_before', {'days': days}) }}
        end as timing_text
    from ranked
    where closeness_rank = 1

),

final as (

    select
        summarised.period,
        summarised.rep_id,
        summarised.customer_id,
        cast(null as {{ dbt.type_string() }}) as response_id,
        'hidden_complaint' as rule_id,
        case
            when summarised.tickets_not_logged = 0 then 'low'
            when summarised.has_positive_claim = 1 then 'high'
            else 'medium'
        end as severity,
        cast(summarised.complaint_tickets as {{ type_double() }}) as strength,
        {{ report_sentence('evidence_hidden_complaint', {
            'rep': 'summarised.rep_id', 'kind': 'closest.kind_text', 'claim': 'closest.claim_text',
            'customer': 'summarised.customer_id', 'contact_on': 'closest.contact_on_text',
            'timing': 'closest.timing_text', 'ticket': 'closest.ticket_id', 'opened_on': 'closest.opened_on_text',
            'owner_note': "case when closest.is_attributed_to_owner then " ~ report_word('attributed_to_owner')
                ~ " else '' end",
            'positive_records': dbt.cast("summarised.positive_records", dbt.type_string()),
            'window': "'" ~ window_days ~ "'",
            'tickets': dbt.cast("summarised.complaint_tickets", dbt.type_string()),
            'not_logged': dbt.cast("summarised.tickets_not_logged", dbt.type_string()),
        }) }} as evidence
    from summarised
    inner join closest
        on summarised.period = closest.period
        and summarised.rep_id = closest.rep_id
        and summarised.customer_id = closest.customer_id

)

select * from final
