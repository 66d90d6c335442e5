{#
  pgtrickle_stream_table_exists(relation)
  True when pg_trickle's catalog has a stream table at this relation. Check this before
  dropping: pgtrickle.drop_stream_table fails for unknown names.
#}
{% macro pgtrickle_stream_table_exists(relation) %}
  {{ return(dbt_pg_trickle.pgtrickle_get_stream_table_info(relation) is not none) }}
{% endmacro %}
