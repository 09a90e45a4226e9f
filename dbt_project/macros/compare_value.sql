{#- The precision at which computed values are compared (SCORING.md "Precise readings": "Comparisons
    between computed values (below / above the company, ties in ranks, gaps) are made at the stored
    precision rounded to 6 decimals, the same rule in models and in tests").

    compare_value(expression) -> the value rounded to 6 decimals, as DECIMAL(38, 6): the cast rounds
        half away from zero on DuckDB, PostgreSQL and Spark (no engine-specific round(double, n):
        PostgreSQL has none), so two values that differ by floating-point noise (a team median and the
        company median 1e-13 apart) compare equal, and a difference of 1e-6 or more is kept.
        Use it on both sides of every comparison of computed values (<, >, =, <>), in rank() / ordering
        keys, and on the operands of a gap that decides whether a row exists; the stored figures stay
        unrounded unless the model says otherwise.
    compare_gap(minuend, subtrahend) -> compare_value(minuend) - compare_value(subtrahend), in DOUBLE:
        a difference taken at that precision (0 for noise, a multiple of 0.000001 otherwise), so that the
        row filter (gap > 0), the stored gap and the test on it (value_between) agree.
    compare_precision() -> 6, the number of decimals. -#}

{% macro compare_precision() -%}
    {{ return(6) }}
{%- endmacro %}

{% macro compare_value(expression) -%}
    cast({{ expression }} as decimal(38, {{ compare_precision() }}))
{%- endmacro %}

{% macro compare_gap(minuend, subtrahend) -%}
    cast({{ compare_value(minuend) }} - {{ compare_value(subtrahend) }} as {{ type_double() }})
{%- endmacro %}
