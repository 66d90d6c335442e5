{#
  pgtrickle_get_stream_table_info(relation)
  Describe one existing stream table, reading only its own catalog row (one probe of the
  unique index on (pgt_schema, pgt_name)), its newest refresh history row and whether any
  stream table reads it. Its cost does not grow with the catalog, so a run over N models
  costs N lookups; the dependency closure is read only when a plan needs it
  (pgtrickle_get_stream_table_dependents).
  relation may also be a name, as the upstream dbt-pgtrickle package takes it
  (pgtrickle_relation_from_name); the dict also has that package's keys pgt_name, pgt_schema,
  requested_cdc_mode, fuse_mode and st_partition_key.
  Returns: the dict pgtrickle_get_stream_tables_info describes, with depth none and
    dependents none (not read yet), plus index_names (the indexes on the table, for
    pgtrickle_get_index_plan) and has_grants (whether the dbt user granted a privilege on
    it, for pgtrickle_apply_grants), or none when the catalog has no such stream table.
#}
{% macro pgtrickle_get_stream_table_info(relation) %}
  {%- if not execute -%}{{ return(none) }}{%- endif -%}
  {%- set relation = dbt_pg_trickle.pgtrickle_relation_from_name(relation) -%}
  {%- set query -%}
select
  to_jsonb(s)::text as row,
  exists (select from pgtrickle.pgt_dependencies d
          where d.source_relid = s.pgt_relid and d.source_type = 'STREAM_TABLE') as has_dependents,
  (select to_jsonb(h)::text from pgtrickle.pgt_refresh_history h
     where h.pgt_id = s.pgt_id order by h.refresh_id desc limit 1) as last_refresh,
  (select coalesce(json_agg(i.indexname), '[]')::text from pg_catalog.pg_indexes i
     where i.schemaname = s.pgt_schema and i.tablename = s.pgt_name) as index_names,
  exists (select from information_schema.role_table_grants g
          where g.grantor = current_role and g.grantee <> current_role
            and g.table_schema = s.pgt_schema and g.table_name = s.pgt_name) as has_grants
from pgtrickle.pgt_stream_tables s
where s.pgt_schema = {{ dbt_pg_trickle.pgtrickle_sql_value(relation.schema) }}
  and s.pgt_name = {{ dbt_pg_trickle.pgtrickle_sql_value(relation.identifier) }}
  {%- endset -%}
  {#- auto_begin: in a model this opens dbt's transaction, which the materialization commits; a
      run-operation has none and must not start one (see pgtrickle_run_committed) -#}
  {%- call statement('pgtrickle_describe', fetch_result=True, auto_begin=dbt_pg_trickle.pgtrickle_in_model_transaction()) -%}{{ query }}{%- endcall -%}
  {%- set rows = load_result('pgtrickle_describe').table.rows -%}
  {%- if rows | length == 0 -%}{{ return(none) }}{%- endif -%}
  {%- set info = dbt_pg_trickle.pgtrickle_stream_table_info_from_row(rows[0][0], rows[0][2],
      {'has_dependents': rows[0][1], 'index_names': fromjson(rows[0][3]), 'has_grants': rows[0][4]}) -%}
  {#- the keys the upstream package's version of this macro returns (its catalog column names) -#}
  {%- do info.update({'pgt_name': info.name, 'pgt_schema': info.schema, 'requested_cdc_mode': info.cdc_mode,
                      'fuse_mode': info.fuse, 'st_partition_key': info.partition_by}) -%}
  {{ return(info) }}
{% endmacro %}
