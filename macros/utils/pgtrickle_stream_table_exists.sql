{#
  pgtrickle_stream_table_exists(relation)
  relation: a relation, or a name as the upstream package takes it ('schema.name' or 'name').
  True when pg_trickle's catalog has a stream table at this relation. Check this before
  dropping: pgtrickle.drop_stream_table fails for unknown names.
#}
{% macro pgtrickle_stream_table_exists(relation) %}
  {%- set relation = dbt_pg_trickle.pgtrickle_relation_from_name(relation) -%}
  {{ return(dbt_pg_trickle.pgtrickle_get_stream_table_info(relation) is not none) }}
{% endmacro %}
