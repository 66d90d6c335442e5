{#
  pgtrickle_get_stream_table_dependents(info)
  The `schema.name` of every stream table that reads the described one, directly or
  transitively, sorted: what a drop with cascade takes along. Walks the dependency graph from
  this table only, and only when it has dependents; the answer is kept in `info`, so asking
  twice reads once.
  Args: info - pgtrickle_get_stream_table_info(...) or an entry of
    pgtrickle_get_stream_tables_info(...) (which already carries its dependents).
  Returns: list of text.
#}
{% macro pgtrickle_get_stream_table_dependents(info) %}
  {%- if info.dependents is not none -%}{{ return(info.dependents) }}{%- endif -%}
  {%- if not info.has_dependents or not execute -%}
    {%- do info.update({'dependents': []}) -%}
    {{ return([]) }}
  {%- endif -%}
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
  {#- auto_begin only in a model: see pgtrickle_get_stream_table_info -#}
  {%- call statement('pgtrickle_dependents', fetch_result=True, auto_begin=dbt_pg_trickle.pgtrickle_in_model_transaction()) -%}{{ query }}{%- endcall -%}
  {%- set dependents = load_result('pgtrickle_dependents').table.columns[0].values() | list -%}
  {%- do info.update({'dependents': dependents}) -%}
  {{ return(dependents) }}
{% endmacro %}
