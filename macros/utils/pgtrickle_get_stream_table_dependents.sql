{#
  pgtrickle_get_stream_table_dependents(info)
  The `schema.name` of every stream table that reads the described one, directly or
  transitively, sorted: what a drop with cascade takes along. Walks the dependency graph from
  this table only, and only when it has dependents or that is not known (has_dependents none:
  a description read through the functions); the answer is kept in `info`, so asking twice
  reads once. From the catalog (pgtrickle_reads_catalog) the walk follows pgt_dependencies;
  through the functions it needs list_sources() of every stream table (pg_trickle grants no
  function that lists a table's readers).
  Args: info - pgtrickle_get_stream_table_info(...) or an entry of
    pgtrickle_get_stream_tables_info(...) (which already carries its dependents).
  Returns: list of text.
#}
{% macro pgtrickle_get_stream_table_dependents(info) %}
  {%- if info.dependents is not none -%}{{ return(info.dependents) }}{%- endif -%}
  {%- if info.has_dependents is sameas false or not execute -%}
    {%- do info.update({'dependents': []}) -%}
    {{ return([]) }}
  {%- endif -%}
  {%- if dbt_pg_trickle.pgtrickle_reads_catalog() -%}
    {%- set query -%}
with recursive below(pgt_id) as (
  select d.pgt_id from pgtrickle.pgt_dependencies d
  where d.source_relid = {{ dbt_pg_trickle.pgtrickle_sql_value(info.relid | int) }}
    and d.source_type = 'STREAM_TABLE'
  union
  select d.pgt_id
  from below b
  join pgtrickle.pgt_stream_tables up on up.pgt_id = b.pgt_id
  join pgtrickle.pgt_dependencies d on d.source_relid = up.pgt_relid and d.source_type = 'STREAM_TABLE'
)
select c.pgt_schema || '.' || c.pgt_name
from below b join pgtrickle.pgt_stream_tables c on c.pgt_id = b.pgt_id
order by 1
    {%- endset -%}
  {%- else -%}
    {%- set query -%}
with recursive st as materialized (
  select ps.name, (pgtrickle.stream_table_spec(qualified_name => ps.name) ->> 'oid')::bigint as relid
  from pgtrickle.pgt_status() ps
),
edges as materialized (
  select src.source_oid as parent_relid, child.name as child, child.relid as child_relid
  from st child
  cross join lateral pgtrickle.list_sources(name => child.name) src
  where src.source_type = 'STREAM_TABLE'
),
below(name, relid) as (
  select e.child, e.child_relid from edges e
  where e.parent_relid = {{ dbt_pg_trickle.pgtrickle_sql_value(info.relid | int) }}
  union
  select e.child, e.child_relid from below b join edges e on e.parent_relid = b.relid
)
select name from below order by 1
    {%- endset -%}
  {%- endif -%}
  {#- auto_begin only in a model: see pgtrickle_get_stream_table_info -#}
  {%- call statement('pgtrickle_dependents', fetch_result=True, auto_begin=dbt_pg_trickle.pgtrickle_in_model_transaction()) -%}{{ query }}{%- endcall -%}
  {%- set dependents = load_result('pgtrickle_dependents').table.columns[0].values() | list -%}
  {%- do info.update({'dependents': dependents, 'has_dependents': dependents | length > 0}) -%}
  {{ return(dependents) }}
{% endmacro %}
