-- Auditors' decisions on anomaly flags (CONTRACT.md review/flag_decisions), as landed: every distinct
-- decision is a row; which one counts is decided in int_flag_decisions.
with

source as (

    select * from {{ source('raw', 'review__flag_decisions') }}

),

current_rows as (

    select * from source
    where _is_current

),

renamed as (

    select
        flag_id,
        decision,
        reviewer,
        decided_at as decided_at_utc,
        reason,
        _file as source_file,
        _row as source_row,
        _run_id as landed_run_id
    from current_rows

),

final as (

    select * from renamed

)

select * from final
