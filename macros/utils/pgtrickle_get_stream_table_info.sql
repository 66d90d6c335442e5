{#
  pgtrickle_get_stream_table_info(relation)
  Describe one existing stream table. From the catalog (pgtrickle_reads_catalog): only its own
  row (one probe of the unique index on (pgt_schema, pgt_name)), its newest refresh history
  row and whether any stream table reads it. Through the read functions (a role pg_trickle
  0.96+ grants no catalog SELECT): stream_table_spec(name) and get_refresh_history(name, 1)
  for this table, and its rows of pgt_status() and fuse_status(), which return every stream
  table (no granted function reports status or fuse for one table); whether it has
  dependents is then not known until pgtrickle_get_stream_table_dependents walks them
  (has_dependents none). The dependency closure is read only when a plan needs it.
  relation may also be a name, as the upstream dbt-pgtrickle package takes it
  (pgtrickle_relation_from_name); the dict also has that package's keys pgt_name, pgt_schema,
  requested_cdc_mode, fuse_mode and st_partition_key.
  Returns: the dict pgtrickle_get_stream_tables_info describes, with depth none and
    dependents none (not read yet), plus index_names (the indexes on the table, for
    pgtrickle_get_index_plan) and has_grants (whether the dbt user granted a privilege on
    it, for pgtrickle_apply_grants), or none when pg_trickle has no such stream table.
#}
{% macro pgtrickle_get_stream_table_info(relation) %}
  {%- if not execute -%}{{ return(none) }}{%- endif -%}
  {%- set relation = dbt_pg_trickle.pgtrickle_relation_from_name(relation) -%}
  {%- set schema_sql = dbt_pg_trickle.pgtrickle_sql_value(relation.schema) -%}
  {%- set name_sql = dbt_pg_trickle.pgtrickle_sql_value(relation.identifier) -%}
  {%- set common -%}
  (select coalesce(json_agg(i.indexname), '[]')::text from pg_catalog.pg_indexes i
     where i.schemaname = {{ schema_sql }} and i.tablename = {{ name_sql }}) as index_names,
  exists (select from information_schema.role_table_grants g
          where g.grantor = current_role and g.grantee <> current_role
            and g.table_schema = {{ schema_sql }} and g.table_name = {{ name_sql }}) as has_grants
  {%- endset -%}
  {%- if dbt_pg_trickle.pgtrickle_reads_catalog() -%}
    {%- set query -%}
select
  to_jsonb(s)::text as row,
  exists (select from pgtrickle.pgt_dependencies d
          where d.source_relid = s.pgt_relid and d.source_type = 'STREAM_TABLE') as has_dependents,
  (select to_jsonb(h)::text from pgtrickle.pgt_refresh_history h
     where h.pgt_id = s.pgt_id order by h.refresh_id desc limit 1) as last_refresh,
  {{ common }},
  {{ dbt_pg_trickle.pgtrickle_needs_recreation_sql('s.pgt_relid') }} as needs_recreation
from pgtrickle.pgt_stream_tables s
where s.pgt_schema = {{ schema_sql }}
  and s.pgt_name = {{ name_sql }}
    {%- endset -%}
  {%- else -%}
    {%- set qualified_sql = dbt_pg_trickle.pgtrickle_sql_value(relation.schema ~ '.' ~ relation.identifier) -%}
    {%- set query -%}
select
  {{ dbt_pg_trickle.pgtrickle_function_row_sql('ps', 'sp.spec', 'fs') }}::text as row,
  null::boolean as has_dependents,
  (select to_jsonb(h)::text from pgtrickle.get_refresh_history(name => {{ qualified_sql }}, max_rows => 1) h) as last_refresh,
  {{ common }},
  {{ dbt_pg_trickle.pgtrickle_needs_recreation_sql("(sp.spec ->> 'oid')::bigint") }} as needs_recreation
from (select pgtrickle.stream_table_spec(qualified_name => {{ qualified_sql }}) as spec) sp
join pgtrickle.pgt_status() ps on ps.name = {{ qualified_sql }}
left join pgtrickle.fuse_status() fs on fs.stream_table = {{ qualified_sql }}
where sp.spec is not null
    {%- endset -%}
  {%- endif -%}
  {#- auto_begin: in a model this opens dbt's transaction, which the materialization commits; a
      run-operation has none and must not start one (see pgtrickle_run_committed) -#}
  {%- call statement('pgtrickle_describe', fetch_result=True, auto_begin=dbt_pg_trickle.pgtrickle_in_model_transaction()) -%}{{ query }}{%- endcall -%}
  {%- set rows = load_result('pgtrickle_describe').table.rows -%}
  {%- if rows | length == 0 -%}{{ return(none) }}{%- endif -%}
  {%- set info = dbt_pg_trickle.pgtrickle_stream_table_info_from_row(rows[0]['row'], rows[0]['last_refresh'],
      {'has_dependents': rows[0]['has_dependents'], 'index_names': fromjson(rows[0]['index_names']),
       'has_grants': rows[0]['has_grants'], 'needs_recreation': rows[0]['needs_recreation'],
       'unknown': [] if dbt_pg_trickle.pgtrickle_reads_catalog() else dbt_pg_trickle.pgtrickle_unread_settings()}) -%}
  {#- the keys the upstream package's version of this macro returns (its catalog column names) -#}
  {%- do info.update({'pgt_name': info.name, 'pgt_schema': info.schema, 'requested_cdc_mode': info.cdc_mode,
                      'fuse_mode': info.fuse, 'st_partition_key': info.partition_by}) -%}
  {{ return(info) }}
{% endmacro %}
