with

source as (

    select * from {{ source('raw', 'survey__responses') }}

),

current_rows as (

    select * from source
    where _is_current

),

renamed as (

    select
        response_id,
        invitation_id,
        responded_at as responded_at_utc,
        {{ to_local_timestamp('responded_at') }} as responded_at_local,
        nps,
        csat,
        comment,
        respondent_fingerprint,
        duration_seconds,
        _file as source_file,
        _row as source_row
    from current_rows

),

final as (

    select * from renamed

)

select * from final
