{#
  pgtrickle_sql_value(value)
  Render a Python value as a SQL literal: none -> null, booleans, numbers, and strings through
  dbt.string_literal. Why a wrapper: dbt.string_literal does not escape quotes, so single quotes
  are doubled here first (every caller validates its strings too; this is the second fence).
  Returns: SQL text.
#}
{% macro pgtrickle_sql_value(value) -%}
  {%- if value is none -%}
    null
  {%- elif value is boolean -%}
    {{ 'true' if value else 'false' }}
  {%- elif value is number -%}
    {{ value }}
  {%- else -%}
    {{ dbt.string_literal(value | string | replace("'", "''")) }}
  {%- endif -%}
{%- endmacro %}
