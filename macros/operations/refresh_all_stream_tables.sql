{#
  refresh_all_stream_tables(schema=none)
  run-operation alias of pgtrickle_refresh_all_stream_tables, under the upstream dbt-pgtrickle
  package's name and argument: schema limits it to the managed stream tables in that schema.
#}
{% macro refresh_all_stream_tables(schema=none) %}
  {% do dbt_pg_trickle.pgtrickle_refresh_all_stream_tables(schema=schema) %}
{% endmacro %}
