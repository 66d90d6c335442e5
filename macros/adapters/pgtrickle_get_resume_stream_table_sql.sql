{#
  pgtrickle_get_resume_stream_table_sql(relation)
  SQL calling pgtrickle.resume_stream_table.
  Returns: SQL text.
#}
{% macro pgtrickle_get_resume_stream_table_sql(relation) -%}
  {{ return(dbt_pg_trickle.pgtrickle_get_call_sql('resume_stream_table', relation)) }}
{%- endmacro %}
