{#
  pgtrickle_is_empty_run()
  Whether dbt runs with --empty, where every ref() and source() renders as an empty subquery
  (`select * from ... where false limit 0`). Such a query must never reach pg_trickle: it
  would be the stream table's definition from then on (and pg_trickle refuses a LIMIT
  without ORDER BY anyway).
  Returns: bool.
#}
{% macro pgtrickle_is_empty_run() %}
  {{ return((invocation_args_dict or {}).get('empty') in [true, 'true', 'True']) }}
{% endmacro %}
