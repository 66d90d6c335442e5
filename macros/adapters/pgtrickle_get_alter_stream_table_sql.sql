{#
  pgtrickle_get_alter_stream_table_sql(relation, settings, query=none)
  SQL calling pgtrickle.alter_stream_table with only the given settings (alter treats a missing
  argument as "unchanged"). Never pass refresh_mode 'AUTO': pg_trickle writes it into the
  catalog and fails its CHECK constraint (use pgtrickle_resolve_refresh_mode).
  Returns: SQL text.
#}
{% macro pgtrickle_get_alter_stream_table_sql(relation, settings, query=none) -%}
  {%- if (settings.get('refresh_mode') or '') | upper == 'AUTO' -%}
    {{ exceptions.raise_compiler_error("pg_trickle: refusing to send refresh_mode 'AUTO' to alter_stream_table for `" ~ dbt_pg_trickle.pgtrickle_qualified_name(relation) ~ "`; resolve it with pgtrickle_resolve_refresh_mode first.") }}
  {%- endif -%}
  {{ return(dbt_pg_trickle.pgtrickle_get_call_sql('alter_stream_table', relation, settings, query=query)) }}
{%- endmacro %}
