{#
  matches_definition(model)
  Failing rows = rows that differ (as multisets) between the model's stream table and its
  defining query as pg_trickle stores it, recomputed now from the sources. pg_trickle's own
  `__pgt_*` columns are ignored.
#}
{% test matches_definition(model) %}
  {%- set st = dbt_pg_trickle.pgtrickle_find_stream_table_for_relation(model) -%}
  {%- set columns = [] -%}
  {%- set query = 'select 1' -%}
  {%- if execute -%}
    {%- set info = dbt_pg_trickle.pgtrickle_get_stream_table_info(st.relation) if st else none -%}
    {%- if info is none -%}
      {{ exceptions.raise_compiler_error("matches_definition: `" ~ model ~ "` is not an existing stream table of a stream_table model; run `dbt run` first.") }}
    {%- endif -%}
    {%- set query = info.query -%}
    {%- for column in adapter.get_columns_in_relation(st.relation) if not column.name.startswith('__pgt_') -%}
      {%- do columns.append(adapter.quote(column.name)) -%}
    {%- endfor -%}
  {%- endif -%}
  {%- set column_list = columns | join(', ') if columns else '*' -%}
with actual as (select {{ column_list }} from {{ st.relation if st else model }}),
expected as (select {{ column_list }} from ({{ query }}) as q)
(select 'missing from stream table' as problem, * from (select * from expected except all select * from actual) as m)
union all
(select 'unexpected in stream table' as problem, * from (select * from actual except all select * from expected) as u)
{% endtest %}
