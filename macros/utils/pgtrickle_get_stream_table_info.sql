{#
  pgtrickle_get_stream_table_info(relation)
  Describe one existing stream table (see pgtrickle_get_stream_tables_info for the shape).
  relation may also be a name, as the upstream package takes it (pgtrickle_relation_from_name);
  the dict also has the upstream macro's keys pgt_name, pgt_schema, requested_cdc_mode,
  fuse_mode and st_partition_key.
  Returns: the dict, or none when the catalog has no such stream table.
#}
{% macro pgtrickle_get_stream_table_info(relation) %}
  {%- set relation = dbt_pg_trickle.pgtrickle_relation_from_name(relation) -%}
  {%- set found = dbt_pg_trickle.pgtrickle_get_stream_tables_info([relation]) -%}
  {%- set info = found.get(dbt_pg_trickle.pgtrickle_qualified_name(relation)) -%}
  {%- if info is not none -%}
    {#- the keys the upstream package's version of this macro returns (its catalog column names) -#}
    {%- do info.update({'pgt_name': info.name, 'pgt_schema': info.schema, 'requested_cdc_mode': info.cdc_mode,
                        'fuse_mode': info.fuse, 'st_partition_key': info.partition_by}) -%}
  {%- endif -%}
  {{ return(info) }}
{% endmacro %}
