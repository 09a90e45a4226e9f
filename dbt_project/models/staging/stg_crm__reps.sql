with

source as (

    select * from {{ source('raw', 'crm__reps') }}

),

current_rows as (

    select * from source
    where _is_current

),

renamed as (

    select
        rep_id,
        rep_name,
        team_id,
        email,
        hired_on,
        left_on,
        updated_at,
        _file as source_file,
        _row as source_row
    from current_rows

),

final as (

    select * from renamed

)

select * from final
