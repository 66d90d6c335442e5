{#
  pgtrickle_find_managed_stream_table(model_name)
  The managed stream table (pgtrickle_managed_stream_tables) of one model, or a compiler error
  listing the stream-table models when there is none by that name.
#}
{% macro pgtrickle_find_managed_stream_table(model_name) %}
  {%- set managed = dbt_pg_trickle.pgtrickle_managed_stream_tables() -%}
  {%- set matches = managed | selectattr('model_name', 'equalto', model_name) | list -%}
  {%- if not matches -%}
    {{ exceptions.raise_compiler_error("pg_trickle: no model `" ~ model_name ~ "` with materialized='stream_table' in this project; use one of: " ~ (managed | map(attribute='model_name') | sort | join(', ') or 'none') ~ ".") }}
  {%- endif -%}
  {{ return(matches[0]) }}
{% endmacro %}
