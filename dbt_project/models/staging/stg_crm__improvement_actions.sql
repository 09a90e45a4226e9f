with

source as (

    select * from {{ source('raw', 'crm__improvement_actions') }}

),

current_rows as (

    select * from source
    where _is_current

),

renamed as (

    select
        action_id,
        rep_id,
        customer_id,
        ticket_id,
        issue_type,
        measure,
        due_on,
        completed_on,
        customer_confirmed,
        confirmed_via,
        _file as source_file,
        _row as source_row
    from current_rows

),

final as (

    select * from renamed

)

select * from final
