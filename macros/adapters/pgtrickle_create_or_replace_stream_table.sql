{#
  pgtrickle_create_or_replace_stream_table(relation, query, settings)
  Call pgtrickle.create_or_replace_stream_table in a committed transaction of its own (see pgtrickle_run_committed).
  Also takes the upstream dbt-pgtrickle package's arguments for it, (name, query, schedule,
  refresh_mode, initialize, cdc_mode, ...) by position or name: see
  pgtrickle_upstream_create_settings. relation may be a name ('schema.name' or 'name').
#}
{% macro pgtrickle_create_or_replace_stream_table(relation, query, settings) %}
  {%- if settings is not mapping -%}
    {%- set settings = dbt_pg_trickle.pgtrickle_upstream_create_settings(settings, varargs, kwargs) -%}
  {%- endif -%}
  {%- set relation = dbt_pg_trickle.pgtrickle_relation_from_name(relation) -%}
  {% do dbt_pg_trickle.pgtrickle_run_committed('pgtrickle_create_or_replace_stream_table', [dbt_pg_trickle.pgtrickle_get_create_or_replace_stream_table_sql(relation, query, settings)], lifecycle=true) %}
{% endmacro %}
