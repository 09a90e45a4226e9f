{{ config(severity='warn', tags=['cross_source']) }}
-- CONTRACT.md cross-source rule: a survey response belongs to an invitation sent before it was
-- answered. Reported as a validation failure (warn): the row is not dropped.
-- Columns row_key, column_name, bad_value, message are copied into audit.validation_failures.

with

responses as (

    select * from {{ ref('stg_survey__responses') }}

),

invitations as (

    select * from {{ ref('stg_survey__invitations') }}

),

final as (

    select
        responses.response_id as row_key,
        'responded_at' as column_name,
        {{ dbt.safe_cast('responses.responded_at_utc', dbt.type_string()) }} as bad_value,
        {{ dbt.concat([
            "'response answered before its invitation ('",
            'responses.invitation_id',
            "') was sent at '",
            dbt.safe_cast('invitations.sent_at_utc', dbt.type_string()),
            "' UTC'",
        ]) }} as message
    from responses
    inner join invitations
        on responses.invitation_id = invitations.invitation_id
    where responses.responded_at_utc < invitations.sent_at_utc

)

select * from final
