-- The scheme file's weights and scoring methods per scheme and catalogue indicator, as the run wrote them.
with

source as (

    select * from {{ source('raw', 'cfg_scheme_weights') }}

),

renamed as (

    select
        scheme_id,
        indicator,
        weight,
        method,
        target,
        cap,
        threshold,
        per_unit,
        max_score,
        min_score
    from source

),

final as (

    select * from renamed

)

select * from final
