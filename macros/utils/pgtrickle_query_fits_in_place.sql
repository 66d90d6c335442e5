{#
  pgtrickle_query_fits_in_place(actual, query)
  Whether pg_trickle can change the existing stream table `actual`
  (pgtrickle_get_stream_table_info) to `query` in place and still fill the right columns.
  pg_trickle 0.67.0 appends a new column behind its own `__pgt_count` and then fills the table
  by position, so a query that adds a column behind those, renames, reorders or retypes one
  would get values in the wrong columns; the rule and why: IN_PLACE_QUERY_SQL in
  airflow_provider_pgtrickle/vocabulary/lifecycle.py. The query's columns come from a
  temporary view over it, dropped again at once (a changed query only: unchanged models never
  get here).
  Returns: bool.
#}
{% macro pgtrickle_query_fits_in_place(actual, query) %}
  {%- if not execute -%}{{ return(true) }}{%- endif -%}
  {%- set in_model = dbt_pg_trickle.pgtrickle_in_model_transaction() -%}
  {%- set probe = 'pg_temp.pgtrickle_query_probe' -%}
  {%- call statement('pgtrickle_query_probe', auto_begin=in_model) -%}
drop view if exists {{ probe }};
create temporary view pgtrickle_query_probe as
{{ query }}
  {%- endcall -%}
  {%- set check = dbt_pg_trickle.pgtrickle_config_vocabulary().in_place_query_sql
      | replace('{storage}', actual.relid | int | string)
      | replace('{new_columns}', "select a.attnum, a.attname::text as name, a.atttypid as typ from pg_catalog.pg_attribute as a where a.attrelid = '" ~ probe ~ "'::regclass and a.attnum > 0 and not a.attisdropped") -%}
  {%- call statement('pgtrickle_query_fits', fetch_result=True, auto_begin=in_model) -%}{{ check }}{%- endcall -%}
  {%- set fits = load_result('pgtrickle_query_fits').table.rows[0][0] -%}
  {%- call statement('pgtrickle_query_probe_drop', auto_begin=in_model) -%}drop view if exists {{ probe }}{%- endcall -%}
  {{ return(fits) }}
{% endmacro %}
