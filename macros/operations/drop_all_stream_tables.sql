{#
  drop_all_stream_tables()
  run-operation alias of pgtrickle_drop_all_stream_tables, under the upstream package's name.
#}
{% macro drop_all_stream_tables() %}
  {% do dbt_pg_trickle.pgtrickle_drop_all_stream_tables(force=false) %}
{% endmacro %}
