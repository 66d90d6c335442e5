{#
  pgtrickle_create_stream_table(relation, query, settings)
  Call pgtrickle.create_stream_table in a committed transaction of its own (see pgtrickle_run_committed).
#}
{% macro pgtrickle_create_stream_table(relation, query, settings) %}
  {% do dbt_pg_trickle.pgtrickle_run_committed('pgtrickle_create_stream_table', [dbt_pg_trickle.pgtrickle_get_create_stream_table_sql(relation, query, settings)]) %}
{% endmacro %}
