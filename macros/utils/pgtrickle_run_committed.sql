{#
  pgtrickle_run_committed(label, statements)
  Run statements in one transaction of their own and commit it, in one round trip.
  Why: dbt wraps a model's work in a transaction it may roll back; run_query() would share it.
  `statement(..., auto_begin=False)` with an explicit BEGIN/COMMIT makes the change durable,
  and a failure part-way aborts the whole block, leaving the catalog as it was.
  Args: label (statement name), statements (list of SQL texts without trailing semicolons).
#}
{% macro pgtrickle_run_committed(label, statements) %}
  {% if execute and statements | length > 0 %}
    {% call statement(label, auto_begin=False, fetch_result=False) -%}
BEGIN;
{% for stmt in statements -%}
{{ stmt }};
{% endfor -%}
COMMIT;
    {%- endcall %}
  {% endif %}
{% endmacro %}
