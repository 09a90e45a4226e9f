-- Anomaly rule fabricated_contact (SCORING.md): a self-reported contact with a customer the rep has no
-- open deal with, and no closed deal (closed_on), interaction (customer_contacted_at), proposal
-- (submitted_at) or follow-up (planned_on or completed_at) with within
-- anomalies.fabricated_contact.window_days (default 30) before or after contact_on; local dates.
-- Activities count only between that rep and that customer.
-- One flag per rep x period of contact_on x customer.
--   strength: the number of the rep's unsupported self-reported contacts with that customer in the period
--   severity: high when the rep has no recorded activity with the customer at any date and the
--             customer is owned by another rep (or unknown); medium otherwise.
{%- set window_days = anomaly_setting('fabricated_contact', 'window_days') %}

with

self_reports as (

    select * from {{ ref('int_anomaly_self_reports') }}

),

customers as (

    select * from {{ ref('stg_crm__customers') }}

),

activities as (

    select rep_id, customer_id, closed_on as activity_on
    from {{ ref('stg_crm__deals') }}
    where stage in ('won', 'lost')
        and closed_on is not null
    union all
    select rep_id, customer_id, cast(customer_contacted_at_local as date) as activity_on
    from {{ ref('stg_crm__interactions') }}
    union all
    select rep_id, customer_id, cast(submitted_at_local as date) as activity_on
    from {{ ref('stg_crm__proposals') }}
    union all
    select rep_id, customer_id, planned_on as activity_on
    from {{ ref('stg_crm__followups') }}
    union all
    select rep_id, customer_id, cast(completed_at_local as date) as activity_on
    from {{ ref('stg_crm__followups') }}
    where completed_at_local is not null

),

open_deals as (

    select distinct rep_id, customer_id
    from {{ ref('stg_crm__deals') }}
    where stage = 'open'

),

ever_active as (

    select distinct rep_id, customer_id from activities
    union
    select rep_id, customer_id from open_deals

),

supported as (

    select distinct self_reports.record_id
    from self_reports
    inner join activities
        on self_reports.rep_id = activities.rep_id
        and self_reports.customer_id = activities.customer_id
        and {{ dbt.datediff('activities.activity_on', 'self_reports.contact_on', 'day') }}
            between -{{ window_days }} and {{ window_days }}

),

unsupported as (

    select self_reports.*
    from self_reports
    left join supported
        on self_reports.record_id = supported.record_id
    left join open_deals
        on self_reports.rep_id = open_deals.rep_id
        and self_reports.customer_id = open_deals.customer_id
    where supported.record_id is null
        and open_deals.rep_id is null

),

per_customer as (

    select
        period,
        rep_id,
        customer_id,
        count(*) as contacts,
        min(contact_on) as first_contact_on,
        max(contact_on) as last_contact_on
    from unsupported
    group by period, rep_id, customer_id

),

described as (

    select
        per_customer.*,
        customers.owner_rep_id,
        ever_active.rep_id is not null as has_any_activity
    from per_customer
    left join customers
        on per_customer.customer_id = customers.customer_id
    left join ever_active
        on per_customer.rep_id = ever_active.rep_id
        and per_customer.customer_id = ever_active.customer_id

),

final as (

    select
        period,
        rep_id,
        customer_id,
        cast(null as {{ dbt.type_string() }}) as response_id,
        'fabricated_contact' as rule_id,
        case
            when not has_any_activity and (owner_rep_id is null or owner_rep_id <> rep_id) then 'high'
            else 'medium'
        end as severity,
        cast(contacts as {{ type_double() }}) as strength,
        {%- set first_on = dbt.cast("first_contact_on", dbt.type_string()) %}
        {{ report_sentence('evidence_fabricated_contact', {
            'rep': 'rep_id', 'contacts': dbt.cast("contacts", dbt.type_string()), 'customer': 'customer_id',
            'when': "case when first_contact_on = last_contact_on then "
                ~ report_sentence('contact_on', {'date': first_on}) ~ " else "
                ~ report_sentence('contact_between', {'first': first_on,
                    'last': dbt.cast("last_contact_on", dbt.type_string())}) ~ " end",
            'window': "'" ~ window_days ~ "'",
            'owner': "coalesce(owner_rep_id, " ~ report_word('unknown_customer') ~ ")",
            'other': "case when has_any_activity then " ~ report_word('activity_outside_window') ~ " else "
                ~ report_word('activity_none') ~ " end",
        }) }} as evidence
    from described

)

select * from final
