{#
  pgtrickle_skip_empty_run(relation, actual)
  The whole materialization under `dbt run --empty`: nothing is sent - no pg_trickle call,
  no hook, grant or comment - so the database stays as it was. An existing stream table is
  left as it is; a missing one is not created, because a stream table over the emptied query
  would be wrong (and would keep that query as its definition). Both are logged and reported
  in the run result; the run succeeds.
  Args: relation - the stream table; actual - pgtrickle_get_stream_table_info(...).
  Returns: the materialization's result.
#}
{% macro pgtrickle_skip_empty_run(relation, actual) %}
  {%- if actual is none -%}
    {%- set outcome = 'skipped (--empty): not created, since an empty stream table would be wrong' -%}
  {%- else -%}
    {%- set outcome = 'unchanged (--empty): the stream table was left as it is' -%}
  {%- endif -%}
  {%- do log("pg_trickle: " ~ model.name ~ ": " ~ outcome, info=true) -%}
  {%- do store_raw_result(name='main', message=outcome, code='empty', rows_affected=-1) -%}
  {{ adapter.commit() }}
  {{ return({'relations': [relation] if actual is not none else []}) }}
{% endmacro %}
