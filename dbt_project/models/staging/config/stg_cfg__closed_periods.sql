-- The closed periods (scheme file and close-period ledger), as the run wrote them: out of the refresh window.
with

source as (

    select * from {{ source('raw', 'cfg_closed_periods') }}

),

renamed as (

    select
        period
    from source

),

final as (

    select * from renamed

)

select * from final
