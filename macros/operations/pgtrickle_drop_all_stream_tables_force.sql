{#
  pgtrickle_drop_all_stream_tables_force()
  run-operation: pgtrickle_drop_all_stream_tables(force=true): also drops stream tables outside
  the project that read managed ones.
#}
{% macro pgtrickle_drop_all_stream_tables_force() %}
  {% do dbt_pg_trickle.pgtrickle_drop_all_stream_tables(force=true) %}
{% endmacro %}
