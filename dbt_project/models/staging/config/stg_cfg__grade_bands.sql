-- The scheme file's grade bands, highest first, as the run wrote them.
with

source as (

    select * from {{ source('raw', 'cfg_grade_bands') }}

),

renamed as (

    select
        seq,
        label,
        min_score,
        bonus_coefficient
    from source

),

final as (

    select * from renamed

)

select * from final
