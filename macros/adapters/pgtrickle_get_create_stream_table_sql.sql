{#
  pgtrickle_get_create_stream_table_sql(relation, query, settings)
  SQL calling pgtrickle.create_stream_table. settings: dict of its arguments (schedule, refresh_mode,
  initialize, diamond_consistency, diamond_schedule_policy, cdc_mode, append_only,
  partition_by, max_differential_joins, max_delta_fraction); none values take the default.
  Returns: SQL text.
#}
{% macro pgtrickle_get_create_stream_table_sql(relation, query, settings) -%}
  {{ return(dbt_pg_trickle.pgtrickle_get_call_sql('create_stream_table', relation, settings, query=query)) }}
{%- endmacro %}
