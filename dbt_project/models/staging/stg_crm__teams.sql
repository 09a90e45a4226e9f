with

source as (

    select * from {{ source('raw', 'crm__teams') }}

),

current_rows as (

    select * from source
    where _is_current

),

renamed as (

    select
        team_id,
        team_name,
        region,
        business_stage,
        updated_at,
        _file as source_file,
        _row as source_row
    from current_rows

),

final as (

    select * from renamed

)

select * from final
