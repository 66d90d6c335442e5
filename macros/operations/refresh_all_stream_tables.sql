{#
  refresh_all_stream_tables()
  run-operation alias of pgtrickle_refresh_all_stream_tables, under the name users of the
  upstream dbt-pgtrickle package know.
#}
{% macro refresh_all_stream_tables() %}
  {% do dbt_pg_trickle.pgtrickle_refresh_all_stream_tables() %}
{% endmacro %}
