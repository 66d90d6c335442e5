{#
  pgtrickle_get_stream_tables_info(relations=none)
  Describe existing stream tables, in the shape pgtrickle_stream_table_config returns, in one
  query: from the catalog when this role may read it, else through pg_trickle's granted read
  functions (pgtrickle_reads_catalog; the settings those cannot show read as none and are
  listed under `unknown`, pgtrickle_unread_settings). The catalog row is read as JSON so
  columns an older pg_trickle lacks simply read as none.
  Args: relations - list of relations to look up; none = every stream table.
  Returns: dict keyed by `schema.name` (only the ones that exist) of dicts with
    pgt_id, relid, schema, name, qualified_name, query (the user's text: original_query when
    pg_trickle kept it, else defining_query with a TopK ORDER BY / LIMIT / OFFSET put back),
    topk (dict(order_by, limit, offset) for a TopK stream table, else none), original_query
    and defining_query (as stored), schedule (none = CALCULATED or IMMEDIATE),
    refresh_mode, status, is_populated, cdc_mode, partition_by, append_only, fuse, fuse_ceiling,
    fuse_sensitivity, diamond_consistency, diamond_schedule_policy, max_differential_joins,
    max_delta_fraction, temporal, pooler_compatibility_mode, storage_backend (create-time
    settings; none where this pg_trickle lacks them), consecutive_errors, last_error_message, last_refresh_at,
    data_timestamp, depth (0 = reads no stream table), dependents (the `schema.name` of every
    stream table reading it, directly or transitively), has_dependents and last_refresh (its
    newest refresh history row as a dict, or none), needs_recreation (created before this
    pg_trickle's row identity: pgtrickle_needs_recreation_sql) and unknown (settings not read).
  Cost: one statement that walks the dependency graph of the whole catalog (for depth; through
  the functions: stream_table_spec() and list_sources() of every stream table), so it
  is meant for operations over many models at once; a model run describes its one table with
  pgtrickle_get_stream_table_info instead.
#}
{% macro pgtrickle_get_stream_tables_info(relations=none) %}
  {%- if not execute -%}{{ return({}) }}{%- endif -%}
  {%- if relations is not none and relations | length == 0 -%}{{ return({}) }}{%- endif -%}
  {%- set reads_catalog = dbt_pg_trickle.pgtrickle_reads_catalog() -%}
  {%- set wanted -%}
    {%- for r in relations or [] %}({{ dbt_pg_trickle.pgtrickle_sql_value(r.schema) }}, {{ dbt_pg_trickle.pgtrickle_sql_value(r.identifier) }}){{ ', ' if not loop.last }}{% endfor -%}
  {%- endset -%}
  {%- if reads_catalog -%}
    {%- set query -%}
with recursive edges as (
  select up.pgt_id as parent_id, d.pgt_id as child_id
  from pgtrickle.pgt_dependencies d
  join pgtrickle.pgt_stream_tables up on up.pgt_relid = d.source_relid
  where d.source_type = 'STREAM_TABLE'
),
below(root_id, pgt_id, depth) as (
  select parent_id, child_id, 1 from edges
  union
  select b.root_id, e.child_id, b.depth + 1 from below b join edges e on e.parent_id = b.pgt_id
  where b.depth < 64
),
above(pgt_id, depth) as (
  select pgt_id, 0 from pgtrickle.pgt_stream_tables
  union
  select e.child_id, a.depth + 1 from above a join edges e on e.parent_id = a.pgt_id
  where a.depth < 64
)
select
  to_jsonb(s)::text as row,
  (select coalesce(max(a.depth), 0) from above a where a.pgt_id = s.pgt_id) as depth,
  (select string_agg(distinct c.pgt_schema || '.' || c.pgt_name, ',')
     from below b join pgtrickle.pgt_stream_tables c on c.pgt_id = b.pgt_id
     where b.root_id = s.pgt_id) as dependents,
  (select to_jsonb(h)::text from pgtrickle.pgt_refresh_history h
     where h.pgt_id = s.pgt_id order by h.refresh_id desc limit 1) as last_refresh,
  {{ dbt_pg_trickle.pgtrickle_needs_recreation_sql('s.pgt_relid') }} as needs_recreation
from pgtrickle.pgt_stream_tables s
{%- if relations is not none %}
where (s.pgt_schema, s.pgt_name) in ({{ wanted }})
{%- endif %}
order by 2, s.pgt_schema, s.pgt_name
    {%- endset -%}
  {%- else -%}
    {#- the same walk over the granted functions: one node per pgt_status() row, keyed by its
        `schema.name`; an edge where list_sources() of a table names another one's storage -#}
    {%- set query -%}
with recursive st as materialized (
  select ps, pgtrickle.stream_table_spec(qualified_name => ps.name) as spec
  from pgtrickle.pgt_status() ps
),
edges as materialized (
  select (up.ps).name as parent, (child.ps).name as child
  from st child
  cross join lateral pgtrickle.list_sources(name => (child.ps).name) src
  join st up on (up.spec ->> 'oid')::bigint = src.source_oid
  where src.source_type = 'STREAM_TABLE'
),
below(root, name, depth) as (
  select parent, child, 1 from edges
  union
  select b.root, e.child, b.depth + 1 from below b join edges e on e.parent = b.name
  where b.depth < 64
),
above(name, depth) as (
  select (ps).name, 0 from st
  union
  select e.child, a.depth + 1 from above a join edges e on e.parent = a.name
  where a.depth < 64
)
select
  {{ dbt_pg_trickle.pgtrickle_function_row_sql('(s.ps)', 's.spec', 'fs') }}::text as row,
  (select coalesce(max(a.depth), 0) from above a where a.name = (s.ps).name) as depth,
  (select string_agg(distinct b.name, ',') from below b where b.root = (s.ps).name) as dependents,
  (select to_jsonb(h)::text from pgtrickle.get_refresh_history(name => (s.ps).name, max_rows => 1) h) as last_refresh,
  {{ dbt_pg_trickle.pgtrickle_needs_recreation_sql("(s.spec ->> 'oid')::bigint") }} as needs_recreation
from st s
left join pgtrickle.fuse_status() fs on fs.stream_table = (s.ps).name
where s.spec is not null
{%- if relations is not none %}
  and (s.spec ->> 'schema', s.spec ->> 'name') in ({{ wanted }})
{%- endif %}
order by 2, s.spec ->> 'schema', s.spec ->> 'name'
    {%- endset -%}
  {%- endif -%}
  {#- auto_begin: in a model this opens dbt's transaction, which the materialization commits; a
      run-operation has none and must not start one (see pgtrickle_run_committed) -#}
  {%- call statement('pgtrickle_describe', fetch_result=True, auto_begin=dbt_pg_trickle.pgtrickle_in_model_transaction()) -%}{{ query }}{%- endcall -%}
  {%- set result = load_result('pgtrickle_describe').table -%}
  {%- set unknown = [] if reads_catalog else dbt_pg_trickle.pgtrickle_unread_settings() -%}
  {%- set found = {} -%}
  {%- for r in result.rows -%}
    {%- set dependents = (r['dependents'] or '').split(',') | reject('equalto', '') | list -%}
    {%- set info = dbt_pg_trickle.pgtrickle_stream_table_info_from_row(r['row'], r['last_refresh'], {
        'depth': r['depth'] | int, 'dependents': dependents, 'has_dependents': dependents | length > 0,
        'needs_recreation': r['needs_recreation'], 'unknown': unknown}) -%}
    {%- do found.update({info.qualified_name: info}) -%}
  {%- endfor -%}
  {{ return(found) }}
{% endmacro %}
