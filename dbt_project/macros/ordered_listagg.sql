{#- The values of `measure` in a group, sorted by themselves, the first `limit_num` joined by
    `delimiter_text` (a SQL string literal). dbt.listagg's order_by_clause is ignored on Spark (with a
    warning), so the order there comes from sorting the collected array. -#}
{% macro ordered_listagg(measure, delimiter_text, limit_num=none) -%}
    {{ return(adapter.dispatch('ordered_listagg', 'scorecard')(measure, delimiter_text, limit_num)) }}
{%- endmacro %}

{% macro default__ordered_listagg(measure, delimiter_text, limit_num) -%}
    {{ dbt.listagg(measure, delimiter_text, 'order by ' ~ measure, limit_num) }}
{%- endmacro %}

{% macro spark__ordered_listagg(measure, delimiter_text, limit_num) -%}
    {%- set sorted = 'array_sort(collect_list(' ~ measure ~ '))' -%}
    array_join({{ 'slice(' ~ sorted ~ ', 1, ' ~ limit_num ~ ')' if limit_num else sorted }}, {{ delimiter_text }})
{%- endmacro %}
