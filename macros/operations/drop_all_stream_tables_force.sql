{#
  drop_all_stream_tables_force()
  run-operation alias of pgtrickle_drop_all_stream_tables_force, under the upstream package's name.
#}
{% macro drop_all_stream_tables_force() %}
  {% do dbt_pg_trickle.pgtrickle_drop_all_stream_tables(force=true) %}
{% endmacro %}
