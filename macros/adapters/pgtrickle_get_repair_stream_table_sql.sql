{#
  pgtrickle_get_repair_stream_table_sql(relation)
  SQL calling pgtrickle.repair_stream_table: checks the change capture of the table's sources
  and resets its frontier (needs_reinit), so its next refresh is a FULL one (pg_trickle
  src/api/alter.rs, repair_stream_table_impl).
  Returns: SQL text.
#}
{% macro pgtrickle_get_repair_stream_table_sql(relation) -%}
  {{ return(dbt_pg_trickle.pgtrickle_get_call_sql('repair_stream_table', relation)) }}
{%- endmacro %}
