{#- `+schema: marts` gives the schema `marts` itself (not `<target schema>_marts`):
    analysts and the Dagster publish step rely on the fixed names staging/intermediate/marts/audit. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
