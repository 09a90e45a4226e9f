{#- Helpers of the analysis marts (team_shortfalls, rep_feedback, score_statement, ...).

    analysis_direction(indicator)         -> 1 when higher is better, -1 when lower is better
                                             (lower_is_better_indicators(), macros/catalogue.sql)
    analysis_scale(indicator, team_max)   -> the width of an indicator's scale, to compare gaps across
                                             indicators: 100 for % rates, 200 for nps points (-100..100),
                                             and for the unbounded ones (new_customers, hours) 0 up to the
                                             largest value in the team (abs(team_max)); units from
                                             indicator_units() (macros/catalogue.sql)
    analysis_value_unit(indicator)        -> the unit written after a value: ' %', ' points', ' h', ''
    analysis_gap_unit(indicator)          -> the unit of a difference: ' points' for % and nps, ' h', ''
    analysis_number(expression, places)   -> a number as text with `places` decimals (DECIMAL cast:
                                             half away from zero on DuckDB and PostgreSQL)
    analysis_ordinal(expression)          -> 1st, 2nd, 3rd, 4th, ..., 11th, 12th, 13th, 21st, ...
    analysis_catalogue_position(indicator)-> position of an indicator in the catalogue (1..14)
    analysis_in_units(indicator, units)   -> `indicator in (...)` (or `= '...'`): is it of one of the units -#}

{% macro analysis_direction(indicator) -%}
    case when {{ indicator }} in ('{{ lower_is_better_indicators() | join("', '") }}') then -1 else 1 end
{%- endmacro %}

{% macro analysis_in_units(indicator, units) -%}
    {%- set ids = [] -%}
    {%- for id, unit in indicator_units().items() if unit in units -%}
        {%- do ids.append(id) -%}
    {%- endfor -%}
    {%- if ids | length == 1 -%}
    {{ indicator }} = '{{ ids[0] }}'
    {%- else -%}
    {{ indicator }} in ('{{ ids | join("', '") }}')
    {%- endif -%}
{%- endmacro %}

{% macro analysis_scale(indicator, team_max) -%}
    case
        when {{ analysis_in_units(indicator, ['points']) }} then 200.0
        when {{ analysis_in_units(indicator, ['count', 'h']) }} then abs({{ team_max }})
        else 100.0
    end
{%- endmacro %}

{% macro analysis_value_unit(indicator) -%}
    case
        when {{ analysis_in_units(indicator, ['points']) }} then ' points'
        when {{ analysis_in_units(indicator, ['h']) }} then ' h'
        when {{ analysis_in_units(indicator, ['count']) }} then ''
        else ' %'
    end
{%- endmacro %}

{% macro analysis_gap_unit(indicator) -%}
    case
        when {{ analysis_in_units(indicator, ['h']) }} then ' h'
        when {{ analysis_in_units(indicator, ['count']) }} then ''
        else ' points'
    end
{%- endmacro %}

{% macro analysis_number(expression, places=1) -%}
    {{ decimal_text(expression, 18, places) }}
{%- endmacro %}

{% macro analysis_ordinal(expression) -%}
    {{ dbt.concat([
        dbt.cast(expression, dbt.type_string()),
        "case when mod(" ~ expression ~ ", 100) in (11, 12, 13) then 'th'"
        ~ " when mod(" ~ expression ~ ", 10) = 1 then 'st'"
        ~ " when mod(" ~ expression ~ ", 10) = 2 then 'nd'"
        ~ " when mod(" ~ expression ~ ", 10) = 3 then 'rd' else 'th' end"
    ]) }}
{%- endmacro %}

{% macro analysis_catalogue_position(indicator) -%}
    case {{ indicator }}
        {%- for name in indicator_catalogue() %}
        when '{{ name }}' then {{ loop.index }}
        {%- endfor %}
    end
{%- endmacro %}


{#- One line of int_analysis_score_steps that is not an indicator line (the summary steps, penalties,
    exclusions, the hold), over the CTE `graded`: the subject's columns, the step's number and name, its
    amount, a count in sample_size (responses or flags), the grade (the grade step) and the explanation;
    the indicator columns are NULL. Arguments are SQL expressions. -#}
{% macro score_step_line(step_no, step, explanation, amount='null', sample_size='null', grade='null') -%}
        graded.period,
        graded.grain,
        graded.level,
        graded.subject_id,
        graded.subject_name,
        graded.team_id,
        graded.scheme_id,
        {{ step_no }} as step_no,
        '{{ step }}' as step,
        cast(null as {{ dbt.type_string() }}) as indicator,
        cast(null as {{ dbt.type_string() }}) as method,
        cast(null as {{ type_double() }}) as value,
        cast({{ sample_size }} as {{ dbt.type_int() }}) as sample_size,
        cast(null as boolean) as is_sufficient,
        cast(null as decimal(38, 10)) as score,
        cast(null as decimal(38, 10)) as weight,
        cast(null as boolean) as counts_in_composite,
        cast({{ amount }} as decimal(38, 20)) as amount,
        cast({{ grade }} as {{ dbt.type_string() }}) as grade,
        'published' as disclosure,
        {{ explanation }} as explanation
{%- endmacro %}
