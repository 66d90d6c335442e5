{#
  pgtrickle_has_lost_source(info)
  Whether a relation the stream table reads was dropped since it was created: pg_trickle
  follows its sources by OID, so a source dropped and created again under the same name (as
  `dbt seed --full-refresh` does) is read again only by a new stream table. Read only by a
  full refresh (pgtrickle_get_full_refresh_plan), not on every run. Its sources come from
  pgt_dependencies, or from list_sources() when this role cannot read the catalog
  (pgtrickle_reads_catalog).
  Args: info - pgtrickle_get_stream_table_info(...).
  Returns: bool.
#}
{% macro pgtrickle_has_lost_source(info) %}
  {%- if not execute -%}{{ return(false) }}{%- endif -%}
  {%- call statement('pgtrickle_lost_source', fetch_result=True, auto_begin=dbt_pg_trickle.pgtrickle_in_model_transaction()) -%}
  {%- if dbt_pg_trickle.pgtrickle_reads_catalog() %}
select exists (
  select from pgtrickle.pgt_dependencies d
  where d.pgt_id = {{ dbt_pg_trickle.pgtrickle_sql_value(info.pgt_id | int) }}
    and not exists (select from pg_catalog.pg_class c where c.oid = d.source_relid))
  {%- else %}
select exists (
  select from pgtrickle.list_sources(name => {{ dbt_pg_trickle.pgtrickle_sql_value(info.qualified_name) }}) s
  where not exists (select from pg_catalog.pg_class c where c.oid = s.source_oid::oid))
  {%- endif -%}
  {%- endcall -%}
  {{ return(load_result('pgtrickle_lost_source').table.rows[0][0]) }}
{% endmacro %}
