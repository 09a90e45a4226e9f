{#- Text for readers in the report language (SCORING.md "Reports"; docs/languages.md): var('report_language'),
    `en` (default) or `zh-CN`, from `report.language` of the scheme file. Labels, units and sentences come
    from the catalogue (macros/catalogue.sql, generated from orchestration/catalogue.py); ids stay ids.

    report_language()                      -> 'en' or 'zh-CN' (a compile error names any other value)
    report_indicator_label(indicator)      -> the indicator's label, as a SQL expression
    report_value_unit(indicator)           -> the unit written after a value ('%', ' points', '小时', ...)
    report_gap_unit(indicator)             -> the unit written after a difference (percentage points ...)
    report_word(key)                       -> a word of the sentences catalogue, as a SQL literal
    report_sentence(key, parts)            -> the sentence `key` with each `{name}` replaced by the SQL
                                              expression parts[name] (portable dbt.concat) -#}

{% macro report_language() -%}
    {%- set language = var('report_language', 'en') -%}
    {%- if language not in indicator_labels() -%}
        {{ exceptions.raise_compiler_error("var('report_language') must be one of "
            ~ (indicator_labels().keys() | list | join(', ')) ~ ", got '" ~ language ~ "'") }}
    {%- endif -%}
    {{ return(language) }}
{%- endmacro %}

{% macro report_literal(text) -%}
    '{{ text | replace("'", "''") }}'
{%- endmacro %}

{% macro report_indicator_label(indicator) -%}
    case {{ indicator }}
        {%- for id, label in indicator_labels()[report_language()].items() %}
        when '{{ id }}' then {{ report_literal(label) }}
        {%- endfor %}
        else {{ indicator }}
    end
{%- endmacro %}

{% macro _report_unit(indicator, kind) -%}
    {%- set units = report_units()[report_language()][kind] -%}
    case
        {%- for unit in ['points', 'h', 'count'] %}
        when {{ analysis_in_units(indicator, [unit]) }} then {{ report_literal(units[unit]) }}
        {%- endfor %}
        else {{ report_literal(units['%']) }}
    end
{%- endmacro %}

{% macro report_value_unit(indicator) -%}
    {{ _report_unit(indicator, 'value') }}
{%- endmacro %}

{% macro report_gap_unit(indicator) -%}
    {{ _report_unit(indicator, 'gap') }}
{%- endmacro %}

{% macro report_word(key) -%}
    {{ report_literal(report_sentences()[report_language()][key]) }}
{%- endmacro %}

{% macro report_sentence(key, parts) -%}
    {%- set pieces = modules.re.split('\{(\w+)\}', report_sentences()[report_language()][key]) -%}
    {%- set sql = [] -%}
    {%- for piece in pieces -%}
        {%- if loop.index is even -%}
            {%- if piece not in parts -%}
                {{ exceptions.raise_compiler_error("report_sentence('" ~ key ~ "'): no expression for {" ~ piece ~ "}") }}
            {%- endif -%}
            {%- do sql.append(parts[piece]) -%}
        {%- elif piece -%}
            {%- do sql.append(report_literal(piece)) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ dbt.concat(sql) }}
{%- endmacro %}

{#- The name of an id in a trace (score_statement.explanation): in English the id itself (the statement is
    the trace of a grade, read beside the id columns), in another language its label from the catalogue
    (kind: 'indicator', 'grade' or 'rule'; an id the catalogue does not know stays as it is). -#}
{% macro report_trace_label(kind, expression) -%}
    {%- set language = report_language() -%}
    {%- if language == 'en' -%}
    {{ expression }}
    {%- else -%}
    {%- set labels = {'indicator': indicator_labels, 'grade': grade_labels, 'rule': rule_labels}[kind]()[language] -%}
    case {{ expression }}
        {%- for id, label in labels.items() %}
        when '{{ id }}' then {{ report_literal(label) }}
        {%- endfor %}
        else {{ expression }}
    end
    {%- endif -%}
{%- endmacro %}
