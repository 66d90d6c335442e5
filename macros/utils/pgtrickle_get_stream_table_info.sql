{#
  pgtrickle_get_stream_table_info(relation)
  Describe one existing stream table (see pgtrickle_get_stream_tables_info for the shape).
  relation may also be a name, as the upstream package takes it (pgtrickle_relation_from_name).
  Returns: the dict, or none when the catalog has no such stream table.
#}
{% macro pgtrickle_get_stream_table_info(relation) %}
  {%- set relation = dbt_pg_trickle.pgtrickle_relation_from_name(relation) -%}
  {%- set found = dbt_pg_trickle.pgtrickle_get_stream_tables_info([relation]) -%}
  {{ return(found.get(dbt_pg_trickle.pgtrickle_qualified_name(relation))) }}
{% endmacro %}
