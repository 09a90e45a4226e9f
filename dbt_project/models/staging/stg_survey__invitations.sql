with

source as (

    select * from {{ source('raw', 'survey__invitations') }}

),

current_rows as (

    select * from source
    where _is_current

),

renamed as (

    select
        invitation_id,
        customer_id,
        rep_id,
        deal_id,
        channel,
        sent_at as sent_at_utc,
        {{ to_local_timestamp('sent_at') }} as sent_at_local,
        _file as source_file,
        _row as source_row
    from current_rows

),

final as (

    select * from renamed

)

select * from final
