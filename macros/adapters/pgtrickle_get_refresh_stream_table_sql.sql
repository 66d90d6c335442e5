{#
  pgtrickle_get_refresh_stream_table_sql(relation)
  SQL calling pgtrickle.refresh_stream_table.
  Returns: SQL text.
#}
{% macro pgtrickle_get_refresh_stream_table_sql(relation) -%}
  {{ return(dbt_pg_trickle.pgtrickle_get_call_sql('refresh_stream_table', relation)) }}
{%- endmacro %}
