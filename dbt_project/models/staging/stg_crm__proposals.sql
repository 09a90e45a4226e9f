with

source as (

    select * from {{ source('raw', 'crm__proposals') }}

),

current_rows as (

    select * from source
    where _is_current

),

renamed as (

    select
        proposal_id,
        customer_id,
        rep_id,
        deal_id,
        submitted_at as submitted_at_utc,
        {{ to_local_timestamp('submitted_at') }} as submitted_at_local,
        customer_verdict,
        verdict_at as verdict_at_utc,
        {{ to_local_timestamp('verdict_at') }} as verdict_at_local,
        updated_at,
        _file as source_file,
        _row as source_row
    from current_rows

),

final as (

    select * from renamed

)

select * from final
