with

source as (

    select * from {{ source('raw', 'crm__feedback_self_reported') }}

),

current_rows as (

    select * from source
    where _is_current

),

renamed as (

    select
        record_id,
        rep_id,
        customer_id,
        contact_on,
        reported_on,
        kind,
        claimed_satisfaction,
        complaint_resolved,
        note,
        _file as source_file,
        _row as source_row
    from current_rows

),

final as (

    select * from renamed

)

select * from final
