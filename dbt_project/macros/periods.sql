{#- Periods of the evaluation grain (var('grain'): month | quarter | year).
    period_label(d) -> 'YYYY-MM' | 'YYYY-Qn' | 'YYYY' of a local calendar date,
    (each takes an optional grain that overrides var('grain'))
    period_start(d) / period_end(d) -> first and last calendar day of that period,
    period_label_start(label) -> first day of any period label (month, quarter or year).
    The SQL twin of orchestration/periods.py (label_of, period_bounds, period_start), checked against it
    by tests/integration/test_periods_dbt.py. -#}

{% macro evaluation_grain() -%}
    {%- set grain = var('grain') | lower -%}
    {%- if grain not in ['month', 'quarter', 'year'] -%}
        {{ exceptions.raise_compiler_error("var('grain') must be month, quarter or year, got '" ~ grain ~ "'") }}
    {%- endif -%}
    {{ return(grain) }}
{%- endmacro %}

{% macro period_label(local_date, grain=none) -%}
    {%- set grain = grain or evaluation_grain() -%}
    {%- set year_text = dbt.cast('extract(year from ' ~ local_date ~ ')', dbt.type_int()) -%}
    {%- set year_text = dbt.cast(year_text, dbt.type_string()) -%}
    {%- if grain == 'month' -%}
        {{ dbt.concat([year_text, "'-'", "lpad(" ~ dbt.cast(dbt.cast('extract(month from ' ~ local_date ~ ')', dbt.type_int()), dbt.type_string()) ~ ", 2, '0')"]) }}
    {%- elif grain == 'quarter' -%}
        {{ dbt.concat([year_text, "'-Q'", dbt.cast(dbt.cast('extract(quarter from ' ~ local_date ~ ')', dbt.type_int()), dbt.type_string())]) }}
    {%- else -%}
        {{ year_text }}
    {%- endif -%}
{%- endmacro %}

{% macro period_start(local_date, grain=none) -%}
    cast({{ dbt.date_trunc(grain or evaluation_grain(), local_date) }} as date)
{%- endmacro %}

{% macro period_end(local_date, grain=none) -%}
    cast({{ dbt.last_day(local_date, grain or evaluation_grain()) }} as date)
{%- endmacro %}

{% macro period_label_start(label) -%}
    cast(
        case
            when length({{ label }}) = 4
                then {{ dbt.concat([label, "'-01-01'"]) }}
            when substring({{ label }}, 6, 1) = 'Q'
                then {{ dbt.concat([
                    "substring(" ~ label ~ ", 1, 4)", "'-'",
                    "lpad(" ~ dbt.cast("cast(substring(" ~ label ~ ", 7, 1) as " ~ dbt.type_int() ~ ") * 3 - 2", dbt.type_string()) ~ ", 2, '0')",
                    "'-01'"]) }}
            else {{ dbt.concat([label, "'-01'"]) }}
        end
        as date)
{%- endmacro %}
