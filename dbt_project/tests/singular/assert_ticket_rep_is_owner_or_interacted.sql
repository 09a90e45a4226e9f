{{ config(severity='warn', tags=['cross_source']) }}
-- CONTRACT.md cross-source rule: a ticket's rep is the customer's owner or has interacted with the
-- customer (any interaction, deal, proposal or follow-up). Tickets without rep_id are attributed to
-- the owner and always pass. Reported as a validation failure (warn): the row is not dropped.

with

tickets as (

    select * from {{ ref('stg_tickets__tickets') }}
    where rep_id is not null

),

customers as (

    select * from {{ ref('stg_crm__customers') }}

),

touches as (

    select rep_id, customer_id from {{ ref('stg_crm__interactions') }}
    union
    select rep_id, customer_id from {{ ref('stg_crm__deals') }}
    union
    select rep_id, customer_id from {{ ref('stg_crm__proposals') }}
    union
    select rep_id, customer_id from {{ ref('stg_crm__followups') }}

),

final as (

    select
        tickets.ticket_id as row_key,
        'rep_id' as column_name,
        tickets.rep_id as bad_value,
        {{ dbt.concat([
            "'ticket rep '", 'tickets.rep_id', "' is not the owner ('",
            "coalesce(customers.owner_rep_id, 'unknown customer')",
            "') of customer '", 'tickets.customer_id', "' and never interacted with the customer'",
        ]) }} as message
    from tickets
    left join customers
        on tickets.customer_id = customers.customer_id
    left join touches
        on tickets.rep_id = touches.rep_id
        and tickets.customer_id = touches.customer_id
    where (customers.owner_rep_id is null or tickets.rep_id <> customers.owner_rep_id)
        and touches.rep_id is null

)

select * from final
