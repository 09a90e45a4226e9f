with

source as (

    select * from {{ source('raw', 'crm__adjustments') }}

),

current_rows as (

    select * from source
    where _is_current

),

renamed as (

    select
        adjustment_id,
        period,
        level,
        subject_id,
        points,
        reason,
        approved_by,
        _file as source_file,
        _row as source_row
    from current_rows

),

final as (

    select * from renamed

)

select * from final
