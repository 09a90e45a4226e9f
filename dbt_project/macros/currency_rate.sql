{#- Rate to the base currency of a currency column, from var('currency_rates') (currency -> rate).
    The base currency has rate 1; a currency without a rate gives NULL (ingestion quarantines those). -#}
{% macro currency_rate(currency_column) -%}
    case
        when {{ currency_column }} = '{{ var("currency_base") }}' then 1
        {%- for currency, rate in var('currency_rates').items() %}
        when {{ currency_column }} = '{{ currency | upper }}' then cast({{ rate }} as decimal(18, 8))
        {%- endfor %}
    end
{%- endmacro %}
