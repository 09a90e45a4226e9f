with

source as (

    select * from {{ source('raw', 'crm__interactions') }}

),

current_rows as (

    select * from source
    where _is_current

),

renamed as (

    select
        interaction_id,
        rep_id,
        customer_id,
        channel,
        customer_contacted_at as customer_contacted_at_utc,
        {{ to_local_timestamp('customer_contacted_at') }} as customer_contacted_at_local,
        rep_responded_at as rep_responded_at_utc,
        {{ to_local_timestamp('rep_responded_at') }} as rep_responded_at_local,
        _file as source_file,
        _row as source_row
    from current_rows

),

final as (

    select * from renamed

)

select * from final
