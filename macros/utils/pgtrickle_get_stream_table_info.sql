{#
  pgtrickle_get_stream_table_info(relation)
  Describe one existing stream table (see pgtrickle_get_stream_tables_info for the shape).
  Returns: the dict, or none when the catalog has no such stream table.
#}
{% macro pgtrickle_get_stream_table_info(relation) %}
  {%- set found = dbt_pg_trickle.pgtrickle_get_stream_tables_info([relation]) -%}
  {{ return(found.get(dbt_pg_trickle.pgtrickle_qualified_name(relation))) }}
{% endmacro %}
