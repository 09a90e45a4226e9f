{#- The refresh window of a run: the periods whose rows the per-period marts and audit tables rebuild.

    The per-period models (marts/, audit/ except the keyed anomaly_flag_history) are incremental. In a
    run on an existing warehouse, their pre-hook clear_refresh_window() deletes the rows of the window
    (on Spark it drops the window's partitions) and the model inserts the window's rows again
    (refresh_window_filter() in its final select); rows outside the window stay exactly as published.
    On a first build (no table yet) every period is built. The flag tables int_anomaly_flags,
    int_anomaly_response_flags and int_anomaly_flag_responses are kept the same way (dbt_project.yml).
    The event-level models read only the window's periods and a margin around them
    (int_periods_refreshed) once something is published.

    The window is every period
      - from run_value('period_from') to run_value('period_to') (labels of the grain; either null = open-ended;
        the orchestration passes the run's Dagster partition range, none = every period), and
      - not closed: stg_cfg__closed_periods (raw.cfg_closed_periods, written by the run from the scheme
        file's closed_periods and the close-period / reopen-period ledger, orchestration/closed_periods.py).
        A model calling these macros only in incremental runs declares the dependency with
        `-- depends_on: {{ ref('stg_cfg__closed_periods') }}` (dbt sees no ref in a first build).
    Labels of one grain sort as text in time order (2026-Q1 < 2026-Q2, 2026-02 < 2026-10), so the
    bounds are text comparisons. -#}

{% macro in_refresh_window(column='period') -%}
    {{ refresh_window_condition(column, run_value('period_from'), run_value('period_to'), ref('stg_cfg__closed_periods')) }}
{%- endmacro %}

{#- the condition itself, for any bounds and relation of closed periods (a `period` column): the SQL twin
    of orchestration/periods.py in_refresh_window, checked against it by tests/integration/test_periods_dbt.py -#}
{% macro refresh_window_condition(column, period_from, period_to, closed_periods) -%}
    ({{ column }} not in (select period from {{ closed_periods }})
    {%- if period_from %} and {{ column }} >= {{ dbt.string_literal(period_from) }}{% endif %}
    {%- if period_to %} and {{ column }} <= {{ dbt.string_literal(period_to) }}{% endif %})
{%- endmacro %}

{#- where-clause of a per-period model's final select: only the window when the table exists -#}
{% macro refresh_window_filter(column='period') -%}
    {%- if is_incremental() %}
where {{ in_refresh_window(column) }}
    {%- endif %}
{%- endmacro %}

{#- pre-hook of the per-period models: delete the window's rows before they are inserted again.
    Keyed incremental models (a unique_key, like anomaly_flag_history) are left alone. -#}
{% macro clear_refresh_window(column='period') -%}
    {{- return(adapter.dispatch('clear_refresh_window')(column)) -}}
{%- endmacro %}

{% macro default__clear_refresh_window(column) -%}
    {%- if execute and is_incremental() and config.get('unique_key') is none -%}
        delete from {{ this }} where {{ in_refresh_window(column) }}
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}

{#- Spark refuses `delete` on a Parquet table. There the per-period models are partitioned by period
    (dbt_project.yml: file_format parquet, partition_by period, which DuckDB and PostgreSQL do not use),
    and the pre-hook drops the partitions of the window's periods that the table holds; the append then
    writes the window's rows again. Same rows as the delete: a window period the run no longer yields
    rows for is gone too (an insert_overwrite would keep its old partition), and every other partition,
    closed periods included, is left as it is. -#}
{% macro spark__clear_refresh_window(column) -%}
    {%- if execute and is_incremental() and config.get('unique_key') is none -%}
        {%- set found = run_query('select distinct ' ~ column ~ ' from ' ~ this ~ ' where ' ~ in_refresh_window(column)) -%}
        {%- set periods = found.columns[0].values() | list -%}
        {%- if periods -%}
        alter table {{ this }} drop if exists
            {%- for period in periods | sort %} partition ({{ column }} = {{ dbt.string_literal(period) }}){{ ',' if not loop.last }}{% endfor %}
        {%- else -%}
        select 1
        {%- endif -%}
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}

{#- progress_baseline(cte, frozen_scorecard): select of the CTE `cte` (a composite per period, level and
    subject with lag()'s recomputed_previous_composite_score and previous_period) adding
    previous_composite_score, the baseline of the progress points: when the previous period is outside
    the run's refresh window (closed, or not selected), its published composite, which this run does
    not change, so progress agrees with the grades analysts see; otherwise the recomputed one.
    `frozen_scorecard` is a relation holding those published rows (the scorecard mart itself, or none
    on a first build). -#}
{% macro progress_baseline(cte, frozen_scorecard) -%}
    select
        {{ cte }}.*,
        {% if frozen_scorecard is not none -%}
        case
            when frozen.period is not null then frozen.composite_score
            else {{ cte }}.recomputed_previous_composite_score
        end
        {%- else -%}
        {{ cte }}.recomputed_previous_composite_score
        {%- endif %} as previous_composite_score
    from {{ cte }}
    {%- if frozen_scorecard is not none %}
    left join (
        select period, level, subject_id, composite_score
        from {{ frozen_scorecard }}
        where not {{ in_refresh_window('period') }}
    ) as frozen
        on {{ cte }}.previous_period = frozen.period
        and {{ cte }}.level = frozen.level
        and {{ cte }}.subject_id = frozen.subject_id
    {%- endif %}
{%- endmacro %}
