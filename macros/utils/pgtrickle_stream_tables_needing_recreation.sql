{#
  pgtrickle_stream_tables_needing_recreation()
  The `schema.name` of every stream table this pg_trickle will not maintain until it is
  created again (pgtrickle_needs_recreation_sql: made before pg_trickle 0.87.16's row
  identity, e.g. by pg_trickle 0.67 before `ALTER EXTENSION pg_trickle UPDATE`), sorted. No
  query on a pg_trickle older than 0.87.16. Lists them from the catalog, or from pgt_status()
  and stream_table_spec() when this role cannot read it (pgtrickle_reads_catalog).
  Returns: list of text.
#}
{% macro pgtrickle_stream_tables_needing_recreation() %}
  {%- if not execute -%}{{ return([]) }}{%- endif -%}
  {%- if dbt_pg_trickle.pgtrickle_needs_recreation_sql('0') == 'false' -%}{{ return([]) }}{%- endif -%}
  {%- if dbt_pg_trickle.pgtrickle_reads_catalog() -%}
    {%- set query -%}
select s.pgt_schema || '.' || s.pgt_name as name
from pgtrickle.pgt_stream_tables s
where {{ dbt_pg_trickle.pgtrickle_needs_recreation_sql('s.pgt_relid') }}
order by 1
    {%- endset -%}
  {%- else -%}
    {%- set query -%}
select ps.name
from pgtrickle.pgt_status() ps
where {{ dbt_pg_trickle.pgtrickle_needs_recreation_sql("(pgtrickle.stream_table_spec(qualified_name => ps.name) ->> 'oid')::bigint") }}
order by 1
    {%- endset -%}
  {%- endif -%}
  {%- call statement('pgtrickle_needing_recreation', fetch_result=True, auto_begin=dbt_pg_trickle.pgtrickle_in_model_transaction()) -%}{{ query }}{%- endcall -%}
  {{ return(load_result('pgtrickle_needing_recreation').table.columns[0].values() | list) }}
{% endmacro %}
