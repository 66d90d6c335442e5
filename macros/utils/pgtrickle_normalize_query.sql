{#
  pgtrickle_normalize_query(query)
  The comparison form of a defining query, as pg_trickle compares them (spec 4.3): every run of
  whitespace collapsed to one space, then trimmed; what pgtrickle_strip_query_end removes
  before a query is sent (trailing semicolons and comments) is left out too. Anything else
  (case, other comments) is a change.
  Returns: text ('' for none).
#}
{% macro pgtrickle_normalize_query(query) -%}
  {{- return(modules.re.sub('\\s+', ' ', dbt_pg_trickle.pgtrickle_strip_query_end(query)) | trim) -}}
{%- endmacro %}
