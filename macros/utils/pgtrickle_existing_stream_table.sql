{#
  pgtrickle_existing_stream_table(model_name)
  For the operations that act on one model's stream table: the managed stream table
  (pgtrickle_find_managed_stream_table) and its catalog info, or a compiler error when the
  model is unknown or its stream table does not exist yet.
  Returns: dict(st: managed stream table, info: pgtrickle_get_stream_table_info(...)).
#}
{% macro pgtrickle_existing_stream_table(model_name) %}
  {%- set st = dbt_pg_trickle.pgtrickle_find_managed_stream_table(model_name) -%}
  {%- do dbt_pg_trickle.pgtrickle_require_extension() -%}
  {%- set info = dbt_pg_trickle.pgtrickle_get_stream_table_info(st.relation) -%}
  {%- if info is none -%}
    {{ exceptions.raise_compiler_error("pg_trickle: stream table `" ~ st.qualified_name ~ "` of model `" ~ model_name ~ "` does not exist; create it with `dbt run -s " ~ model_name ~ "`.") }}
  {%- endif -%}
  {{ return({'st': st, 'info': info}) }}
{% endmacro %}
