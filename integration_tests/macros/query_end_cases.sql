{#
  query_end_cases(queries)
  Run each query of tests/vocabulary/query_end_cases.py through
  dbt_pg_trickle.pgtrickle_strip_query_end and log one line, `QUERY_END_RESULTS <json>`, with
  the text that would be sent for each, in order. One run-operation for the whole table.
  Args: queries - list of query strings.
#}
{% macro query_end_cases(queries) %}
  {%- set results = [] -%}
  {%- for query in queries -%}
    {%- do results.append(dbt_pg_trickle.pgtrickle_strip_query_end(query)) -%}
  {%- endfor -%}
  {%- do log('QUERY_END_RESULTS ' ~ (results | tojson), info=true) -%}
{% endmacro %}
