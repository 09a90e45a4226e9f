with

source as (

    select * from {{ source('raw', 'crm__targets') }}

),

current_rows as (

    select * from source
    where _is_current

),

renamed as (

    select
        period,
        rep_id,
        sales_target,
        updated_at,
        _file as source_file,
        _row as source_row
    from current_rows

),

final as (

    select * from renamed

)

select * from final
