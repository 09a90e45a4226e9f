with

source as (

    select * from {{ source('raw', 'crm__followups') }}

),

current_rows as (

    select * from source
    where _is_current

),

renamed as (

    select
        followup_id,
        rep_id,
        customer_id,
        planned_on,
        completed_at as completed_at_utc,
        {{ to_local_timestamp('completed_at') }} as completed_at_local,
        channel,
        _file as source_file,
        _row as source_row
    from current_rows

),

final as (

    select * from renamed

)

select * from final
