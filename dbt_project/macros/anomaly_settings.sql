{#- Settings and wording helpers of the anomaly rules (SCORING.md "Anomaly rules", docs/anomalies.md).

    The scheme file's `anomalies:` mapping reaches dbt as var('anomalies'), one mapping per rule:
        anomalies:
          channel_gap: {confidence: 0.95, min_responses: 10}
          fabricated_contact: {window_days: 30}
    anomaly_setting(rule, key) -> the configured value, else the documented default: anomaly_rules()
    (macros/catalogue.sql, generated from orchestration/catalogue.py) holds each rule's settings with
    their defaults.
    A rule or key that no model reads is a compile error naming it (a typo would otherwise fall back
    to the default without a word). -#}

{% macro anomaly_setting(rule, key) -%}
    {%- set known = anomaly_rules() -%}
    {%- if rule not in known or key not in known[rule] -%}
        {{ exceptions.raise_compiler_error("anomaly_setting: unknown setting anomalies." ~ rule ~ "." ~ key) }}
    {%- endif -%}
    {%- set settings = var('anomalies', {}) or {} -%}
    {%- if settings is not mapping -%}
        {{ exceptions.raise_compiler_error("anomalies: must be a mapping of rule -> {setting: value}, got " ~ settings) }}
    {%- endif -%}
    {%- for configured_rule, values in settings.items() -%}
        {%- if configured_rule not in known -%}
            {{ exceptions.raise_compiler_error("anomalies." ~ configured_rule ~ ": unknown rule (rules: " ~ known.keys() | join(', ') ~ ")") }}
        {%- endif -%}
        {%- if values is not none and values is not mapping -%}
            {{ exceptions.raise_compiler_error("anomalies." ~ configured_rule ~ ": must be a mapping of setting -> value") }}
        {%- endif -%}
        {%- for configured_key in (values or {}) -%}
            {%- if configured_key not in known[configured_rule] -%}
                {{ exceptions.raise_compiler_error("anomalies." ~ configured_rule ~ "." ~ configured_key ~ ": unknown setting (settings: " ~ known[configured_rule] | join(', ') ~ ")") }}
            {%- endif -%}
        {%- endfor -%}
    {%- endfor -%}
    {%- set rule_settings = settings.get(rule) or {} -%}
    {%- set value = rule_settings.get(key, known[rule][key]) -%}
    {%- if value is none or value is string or value is mapping -%}
        {{ exceptions.raise_compiler_error("anomalies." ~ rule ~ "." ~ key ~ ": must be a number, got " ~ value) }}
    {%- endif -%}
    {%- if key == 'confidence' and not (0 < value < 1) -%}
        {{ exceptions.raise_compiler_error("anomalies." ~ rule ~ ".confidence: must lie strictly between 0 and 1, got " ~ value) }}
    {%- endif -%}
    {%- if value < 0 -%}
        {{ exceptions.raise_compiler_error("anomalies." ~ rule ~ "." ~ key ~ ": must be >= 0, got " ~ value) }}
    {%- endif -%}
    {{ return(value) }}
{%- endmacro %}

{#- Significance level of a rule's one-sided test: 1 - confidence, as a literal (0.95 -> 0.05). -#}
{% macro anomaly_alpha(rule) -%}
    {{ return((1 - anomaly_setting(rule, 'confidence')) | round(10)) }}
{%- endmacro %}

{#- A number as text with a fixed number of decimals (4.1 -> '4.10'), rounded half away from zero by
    the cast to DECIMAL; portable (no format/printf functions). -#}
{% macro anomaly_number_text(expression, decimals=2) -%}
    {#- at the comparison precision first (macros/compare_value.sql): a double's last-bit noise, which
        differs between engines that add in another order (2.8249999999999997 or 2.8250000000000002
        for 2.825), must not decide the last printed digit -#}
    {{ decimal_text(compare_value(expression), 38, decimals) }}
{%- endmacro %}

{#- A p-value as text with 5 decimals, or '<0.00001' below that ('p=' is written by the caller as
    'p' ~ this). -#}
{% macro anomaly_p_text(expression) -%}
    case
        when {{ expression }} < 0.00001 then '<0.00001'
        else {{ dbt.concat(["'='", anomaly_number_text(expression, 5)]) }}
    end
{%- endmacro %}

{#- Severity of a test-based flag from its p-value: < 0.001 high, < 0.01 medium, else low (compared
    at 6 decimals, macros/compare_value.sql). -#}
{% macro anomaly_severity_from_p(p_value) -%}
    case
        when {{ compare_value(p_value) }} < {{ compare_value(0.001) }} then 'high'
        when {{ compare_value(p_value) }} < {{ compare_value(0.01) }} then 'medium'
        else 'low'
    end
{%- endmacro %}
