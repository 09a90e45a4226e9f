{#- run_value(name, default): a value that changes with every run: run_id, as_of (a UTC timestamp string),
    period_from, period_to (the refresh window, macros/refresh_window.sql).

    The orchestration gives them as environment variables of the dbt process, SCORECARD_RUN_<NAME>
    (orchestration/transform/dbt_cli.py, split_run_values), not as --vars: dbt discards its partial-parse
    state whenever --vars differ from the last parse's (a full parse costs 8.2 s here, a partial one 3.9 s).
    They are read only while dbt executes (`execute`), so the parse records no environment variable and
    its state holds from one run to the next. An empty or absent variable falls back to var(name,
    default): standalone, `dbt build --vars '{as_of: "2026-12-31 15:59:59", period_from: 2026-Q3}'` works
    as before, and dbt_project.yml's vars are the defaults. -#}
{% macro run_value(name, default=none) -%}
    {%- set value = env_var('SCORECARD_RUN_' ~ (name | upper), '') if execute else '' -%}
    {{- return(value if value != '' else var(name, default)) -}}
{%- endmacro %}
