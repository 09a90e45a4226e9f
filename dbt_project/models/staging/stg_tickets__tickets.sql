with

source as (

    select * from {{ source('raw', 'tickets__tickets') }}

),

current_rows as (

    select * from source
    where _is_current

),

renamed as (

    select
        ticket_id,
        customer_id,
        rep_id,
        type,
        category,
        severity,
        opened_at as opened_at_utc,
        {{ to_local_timestamp('opened_at') }} as opened_at_local,
        first_response_at as first_response_at_utc,
        {{ to_local_timestamp('first_response_at') }} as first_response_at_local,
        resolved_at as resolved_at_utc,
        {{ to_local_timestamp('resolved_at') }} as resolved_at_local,
        description,
        _file as source_file,
        _row as source_row
    from current_rows

),

final as (

    select * from renamed

)

select * from final
