{#
  pgtrickle_get_set_orchestration_mode_sql(relation, mode)
  SQL calling pgtrickle.set_orchestration_mode (pg_trickle 0.93.0; alter_stream_table has no
  such argument) in named notation. mode: 'MANAGED' or 'EXTERNAL' (checked by the vocabulary).
  Returns: SQL text.
#}
{% macro pgtrickle_get_set_orchestration_mode_sql(relation, mode) -%}
select pgtrickle.set_orchestration_mode(stream_table => {{ dbt_pg_trickle.pgtrickle_sql_value(dbt_pg_trickle.pgtrickle_qualified_name(relation)) }}::regclass, mode => {{ dbt_pg_trickle.pgtrickle_sql_value(mode) }})
{%- endmacro %}
