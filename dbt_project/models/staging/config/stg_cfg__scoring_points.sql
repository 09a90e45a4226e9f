-- The points of the scheme file's piecewise scoring methods, as the run wrote them.
with

source as (

    select * from {{ source('raw', 'cfg_scoring_points') }}

),

renamed as (

    select
        scheme_id,
        indicator,
        seq,
        x,
        y
    from source

),

final as (

    select * from renamed

)

select * from final
