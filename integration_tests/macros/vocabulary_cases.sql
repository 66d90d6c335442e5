{#
  vocabulary_cases(cases)
  Run each case of tests/vocabulary/cases.py through the package's non-raising config check
  (dbt_pg_trickle.pgtrickle_check_config) and log one line, `VOCABULARY_RESULTS <json>`, with
  a result per case: {'value': canonical dict or none, 'error': none or {'key', 'value',
  'accepted'}}. One run-operation for the whole table.
  Args: cases - list of raw config dicts; repeat - check them this many times (for
    bench/bench_config_check.py; the results of the first pass are logged).
#}
{% macro vocabulary_cases(cases, repeat=1) %}
  {%- set results = [] -%}
  {%- for raw in cases -%}
    {%- set checked = dbt_pg_trickle.pgtrickle_check_config(raw) -%}
    {%- do results.append({'value': checked.value, 'error': checked.error}) -%}
  {%- endfor -%}
  {%- for _ in range(repeat - 1) -%}
    {%- for raw in cases -%}
      {%- do dbt_pg_trickle.pgtrickle_check_config(raw) -%}
    {%- endfor -%}
  {%- endfor -%}
  {%- do log('VOCABULARY_RESULTS ' ~ (results | tojson), info=true) -%}
{% endmacro %}
