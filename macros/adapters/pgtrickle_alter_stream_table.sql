{#
  pgtrickle_alter_stream_table(relation, settings, query=none)
  Call pgtrickle.alter_stream_table in a committed transaction of its own.
#}
{% macro pgtrickle_alter_stream_table(relation, settings, query=none) %}
  {% do dbt_pg_trickle.pgtrickle_run_committed('pgtrickle_alter_stream_table', [dbt_pg_trickle.pgtrickle_get_alter_stream_table_sql(relation, settings, query=query)]) %}
{% endmacro %}
