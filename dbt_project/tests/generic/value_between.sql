{#- Every non-NULL value of the column lies within [min_value, max_value], compared at 6 decimals like
    the models compare computed values (macros/compare_value.sql): floating-point noise (a share of
    100.00000000000001 %) never fails the test, a value 0.000001 outside the bounds does. -#}
{% test value_between(model, column_name, min_value, max_value) %}

select *
from {{ model }}
where {{ compare_value(column_name) }} < {{ compare_value(min_value) }}
   or {{ compare_value(column_name) }} > {{ compare_value(max_value) }}

{% endtest %}
