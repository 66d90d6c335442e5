{#
  pgtrickle_refresh_stream_table(relation)
  relation: a relation, or a name as the upstream package takes it ('schema.name' or 'name').
  Refresh a stream table synchronously and commit. Committing matters twice here: the work
  survives, and the refresh's row lock is released so the scheduler is not blocked. A refresh
  finding the table locked by another refresh returns normally having done nothing
  (pg_trickle's NOTICE "refresh skipped"); callers compare refresh history to notice that.
#}
{% macro pgtrickle_refresh_stream_table(relation) %}
  {%- set relation = dbt_pg_trickle.pgtrickle_relation_from_name(relation) -%}
  {% do dbt_pg_trickle.pgtrickle_run_committed('pgtrickle_refresh_stream_table', [dbt_pg_trickle.pgtrickle_get_refresh_stream_table_sql(relation)]) %}
{% endmacro %}
