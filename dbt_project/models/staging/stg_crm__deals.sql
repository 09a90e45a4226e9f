with

source as (

    select * from {{ source('raw', 'crm__deals') }}

),

current_rows as (

    select * from source
    where _is_current

),

renamed as (

    select
        deal_id,
        customer_id,
        rep_id,
        product_line,
        stage,
        amount,
        coalesce(currency, '{{ var("currency_base") }}') as currency,
        closed_on,
        collected_amount,
        updated_at,
        _file as source_file,
        _row as source_row
    from current_rows

),

converted as (

    select
        *,
        -- widened before the product: DECIMAL(18,4) x DECIMAL(18,8) overflows 18 digits (151,300 x 7.1)
        cast(cast(amount as decimal(38, 4)) * {{ currency_rate('currency') }} as decimal(38, 6)) as amount_base,
        cast(
            cast(collected_amount as decimal(38, 4)) * {{ currency_rate('currency') }} as decimal(38, 6)
        ) as collected_amount_base
    from renamed

),

final as (

    select * from converted

)

select * from final
