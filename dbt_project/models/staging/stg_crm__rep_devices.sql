with

source as (

    select * from {{ source('raw', 'crm__rep_devices') }}

),

current_rows as (

    select * from source
    where _is_current

),

renamed as (

    select
        rep_id,
        fingerprint,
        _file as source_file,
        _row as source_row
    from current_rows

),

final as (

    select * from renamed

)

select * from final
