with

source as (

    select * from {{ source('raw', 'crm__customers') }}

),

current_rows as (

    select * from source
    where _is_current

),

renamed as (

    select
        customer_id,
        customer_name,
        region,
        segment,
        industry,
        acquired_on,
        acquisition_channel,
        referred_by_customer_id,
        owner_rep_id,
        updated_at,
        _file as source_file,
        _row as source_row
    from current_rows

),

final as (

    select * from renamed

)

select * from final
