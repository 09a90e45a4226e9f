{#- Minimum sample of an indicator column, from the dict var('min_sample') ('default' for the rest). -#}
{% macro min_sample_for(indicator_column) -%}
    {%- set min_sample = var('min_sample') -%}
    case {{ indicator_column }}
        {%- for indicator, minimum in min_sample.items() if indicator != 'default' %}
        when '{{ indicator }}' then {{ minimum }}
        {%- endfor %}
        else {{ min_sample.get('default', 5) }}
    end
{%- endmacro %}

{#- Local calendar date of the run's as-of time (run_value('as_of') is a UTC timestamp string). -#}
{% macro as_of_local_date() -%}
    cast({{ to_local_timestamp("cast('" ~ run_value('as_of') ~ "' as timestamp)") }} as date)
{%- endmacro %}

{#- The run's as-of time as a UTC timestamp (the raw layer's convention: naive timestamps holding UTC),
    for the pending rule (SCORING.md "Precise readings": an event whose limit has not yet run out at
    as-of and that is not yet resolved, answered or completed is pending). -#}
{% macro as_of_utc() -%}
    cast('{{ run_value("as_of") }}' as timestamp)
{%- endmacro %}
