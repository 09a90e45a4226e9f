{#- Portable statistics for the anomaly tests: only exp, ln, sqrt, abs, window sums and joins, so the
    same SQL runs on DuckDB, PostgreSQL and Spark.

    normal_upper_tail(z) -> P(Z >= z) for a standard normal Z, by Abramowitz & Stegun 26.2.17
        (|error| < 7.5e-8 on the tail probability, for any z).
    integers_with_ln_factorial(upper_bound) -> a select of n = 0..upper_bound with ln(n!) (exact up to
        double rounding: a running sum of ln(k)); joined to counts it gives exact Poisson sums.
    poisson_log_pmf(k, mean, ln_factorial_k) -> ln P(X = k) for X ~ Poisson(mean), mean > 0. -#}

{% macro normal_upper_tail(z) -%}
    {%- set t = "(1.0 / (1.0 + 0.2316419 * abs(" ~ z ~ ")))" -%}
    {%- set tail = "(exp(-0.5 * (" ~ z ~ ") * (" ~ z ~ ")) / 2.5066282746310002 * " ~ t ~ " * (0.319381530 + " ~ t
        ~ " * (-0.356563782 + " ~ t ~ " * (1.781477937 + " ~ t ~ " * (-1.821255978 + " ~ t ~ " * 1.330274429)))))" -%}
    (case when ({{ z }}) >= 0 then {{ tail }} else 1.0 - {{ tail }} end)
{%- endmacro %}

{% macro integers_with_ln_factorial(upper_bound) -%}
    select
        n,
        sum(ln(case when n < 1 then 1 else n end)) over (order by n rows between unbounded preceding and current row)
            as ln_factorial
    from (
        select 0 as n
        union all
        select generated_number as n from ({{ dbt.generate_series(upper_bound) }}) as series
    ) as integers
{%- endmacro %}

{% macro poisson_log_pmf(k, mean, ln_factorial_k) -%}
    (-({{ mean }}) + ({{ k }}) * ln({{ mean }}) - ({{ ln_factorial_k }}))
{%- endmacro %}
