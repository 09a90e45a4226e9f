-- The review policy per anomaly rule, defaults resolved, as the run wrote it.
with

source as (

    select * from {{ source('raw', 'cfg_anomaly_policy') }}

),

renamed as (

    select
        rule_id,
        on_open,
        on_confirm,
        penalty_points
    from source

),

final as (

    select * from renamed

)

select * from final
