{#
  pgtrickle_get_index_names(relation)
  The names of the indexes on a table as this transaction sees them (after a rebuild in it).
  Returns: list of text.
#}
{% macro pgtrickle_get_index_names(relation) %}
  {%- if not execute -%}{{ return([]) }}{%- endif -%}
  {%- call statement('pgtrickle_index_names', fetch_result=True, auto_begin=dbt_pg_trickle.pgtrickle_in_model_transaction()) -%}
select indexname from pg_catalog.pg_indexes
where schemaname = {{ dbt_pg_trickle.pgtrickle_sql_value(relation.schema) }}
  and tablename = {{ dbt_pg_trickle.pgtrickle_sql_value(relation.identifier) }}
  {%- endcall -%}
  {{ return(load_result('pgtrickle_index_names').table.columns[0].values() | list) }}
{% endmacro %}
