{#- dbt's relationships test, but each failing row carries the child's business key (row_key: a
    column or a list of columns, joined with '|'), the dangling value and a message, so that the audit
    ledger (audit.validation_failures) names the row, not only the missing value. -#}
{% test relationships_keyed(model, column_name, to, field, row_key) %}

{%- set key_columns = row_key if row_key is not string else [row_key] -%}
{%- set key_parts = [] -%}
{%- for col in key_columns -%}
    {%- if not loop.first %}{% do key_parts.append("'|'") %}{% endif -%}
    {%- do key_parts.append(dbt.safe_cast(col, dbt.type_string())) -%}
{%- endfor %}

with

child as (

    select
        {{ dbt.concat(key_parts) if key_parts | length > 1 else key_parts[0] }} as row_key,
        {{ column_name }} as from_field
    from {{ model }}
    where {{ column_name }} is not null

),

parent as (

    select {{ field }} as to_field
    from {{ to }}

)

select
    child.row_key,
    '{{ column_name }}' as column_name,
    child.from_field as bad_value,
    {{ dbt.concat([
        "'" ~ column_name ~ " '",
        'child.from_field',
        "' does not resolve to " ~ to.identifier ~ "." ~ field ~ "'",
    ]) }} as message
from child
left join parent
    on child.from_field = parent.to_field
where parent.to_field is null

{% endtest %}
