{#- published_relation(model_name): the relation a model published in an earlier run, or none (a first
    build, or a run with --full-refresh, rebuilds every period and has nothing published to keep).

    This is prior state, like {{ this }} in an incremental model, and not a dependency: the model it
    names is built from the caller in this run (marts.scorecard from int_score_subjects), so a ref()
    would be a cycle. The caller reads only rows that this run does not rebuild (periods outside the
    refresh window, macros/refresh_window.sql), which are the same before and after the run.
    Unit tests override it (overrides: macros: published_relation: false): no published rows. -#}
{% macro published_relation(model_name) -%}
    {%- if not execute or flags.FULL_REFRESH -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set nodes = graph.nodes.values() | selectattr('resource_type', 'equalto', 'model')
        | selectattr('name', 'equalto', model_name) | list -%}
    {%- if nodes | length != 1 -%}
        {{ exceptions.raise_compiler_error("published_relation: no model named '" ~ model_name ~ "'") }}
    {%- endif -%}
    {%- set node = nodes[0] -%}
    {{ return(adapter.get_relation(database=node.database, schema=node.schema, identifier=node.alias)) }}
{%- endmacro %}
