{#
  pgtrickle_get_drop_stream_table_sql(relation, cascade=false)
  SQL calling pgtrickle.drop_stream_table. It fails for unknown names (check first) and, without
  cascade, when other stream tables read this one; cascade drops those too.
  Returns: SQL text.
#}
{% macro pgtrickle_get_drop_stream_table_sql(relation, cascade=false) -%}
  {{ return(dbt_pg_trickle.pgtrickle_get_call_sql('drop_stream_table', relation, {'cascade': cascade})) }}
{%- endmacro %}
