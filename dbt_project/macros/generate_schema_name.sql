{#- `+schema: marts` gives the schema `marts` itself (not `<target schema>_marts`):
    analysts and the Dagster publish step rely on the fixed names staging/intermediate/marts/audit.
    SCORECARD_DBT_SCHEMA_PREFIX (unset: none) goes before every custom schema: on Spark, dbt builds in
    build_staging, build_intermediate, build_marts, build_audit and a run publishes views named marts.* and
    audit.* after its checks (orchestration/engines/spark_publish.py). The raw sources keep their names. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ env_var('SCORECARD_DBT_SCHEMA_PREFIX', '') }}{{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
