{#- A number as text with exactly `scale` decimals, rounded half away from zero by the cast to
    DECIMAL(precision, scale): '4.10', '0.0000000000'. Spark writes a DECIMAL cast to text in
    scientific notation when its scale exceeds 6 and the value is small ('0E-10'), so there the
    whole and fractional digits are written separately, from DECIMAL arithmetic (exact, no double). -#}
{% macro decimal_text(expression, precision, scale) -%}
    {{ return(adapter.dispatch('decimal_text', 'scorecard')(expression, precision, scale)) }}
{%- endmacro %}

{% macro default__decimal_text(expression, precision, scale) -%}
    {{ dbt.cast(dbt.cast(expression, 'decimal(' ~ precision ~ ', ' ~ scale ~ ')'), dbt.type_string()) }}
{%- endmacro %}

{% macro spark__decimal_text(expression, precision, scale) -%}
    {%- set value = 'cast(' ~ expression ~ ' as decimal(' ~ precision ~ ', ' ~ scale ~ '))' -%}
    {%- set magnitude = 'abs(' ~ value ~ ')' -%}
    {%- set whole = 'cast(floor(' ~ magnitude ~ ') as decimal(38, 0))' -%}
    case when {{ value }} is not null then concat(
        case when {{ value }} < 0 then '-' else '' end,
        cast({{ whole }} as string)
        {%- if scale | int > 0 %},
        '.',
        lpad(cast(cast(({{ magnitude }} - {{ whole }}) * 1{{ '0' * (scale | int) }} as decimal(38, 0)) as string),
             {{ scale }}, '0')
        {%- endif %}
    ) end
{%- endmacro %}
