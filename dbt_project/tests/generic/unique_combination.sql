{#- The combination of `columns` is unique (a composite key); rows where any of them is NULL are
    checked by not_null tests, not here. -#}
{% test unique_combination(model, columns) %}

with

keyed as (

    select
        {{ columns | join(', ') }},
        count(*) as row_count
    from {{ model }}
    group by {{ columns | join(', ') }}

),

final as (

    select * from keyed
    where row_count > 1

)

select * from final

{% endtest %}
