{#- Wall-clock time in var('timezone') of a naive timestamp that holds UTC (raw layer convention). -#}
{% macro to_local_timestamp(utc_timestamp) -%}
    {{ return(adapter.dispatch('to_local_timestamp', 'scorecard')(utc_timestamp)) }}
{%- endmacro %}

{% macro duckdb__to_local_timestamp(utc_timestamp) -%}
    timezone('{{ var("timezone") }}', timezone('UTC', {{ utc_timestamp }}))
{%- endmacro %}

{% macro spark__to_local_timestamp(utc_timestamp) -%}
    from_utc_timestamp({{ utc_timestamp }}, '{{ var("timezone") }}')
{%- endmacro %}

{% macro default__to_local_timestamp(utc_timestamp) -%}
    (({{ utc_timestamp }}) at time zone 'UTC') at time zone '{{ var("timezone") }}'
{%- endmacro %}
