{#- None of `columns` is NULL (the not_null half of a composite key). -#}
{% test not_null_combination(model, columns) %}

select *
from {{ model }}
where {% for column in columns %}{{ column }} is null{% if not loop.last %} or {% endif %}{% endfor %}

{% endtest %}
