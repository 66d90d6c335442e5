{#
  pgtrickle_normalize_query(query)
  The comparison form of a defining query, as pg_trickle compares them (pg_trickle src/api/create.rs, normalize_sql_whitespace): every run of
  whitespace collapsed to one space, then trimmed. Anything else (case, comments) is a change.
  Returns: text ('' for none).
#}
{% macro pgtrickle_normalize_query(query) -%}
  {{- return(modules.re.sub('\\s+', ' ', query or '') | trim) -}}
{%- endmacro %}
