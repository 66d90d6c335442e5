{#
  pgtrickle_is_topk_query(query)
  Whether a model's SQL ends in the clause pg_trickle keeps apart as TopK: a trailing
  ORDER BY ... LIMIT n [OFFSET m] (pg_trickle src/dvm/parser/rewrites.rs, detect_topk_pattern),
  matched as pgtrickle_query_matches splits it, keywords in any case.
  Returns: bool.
#}
{% macro pgtrickle_is_topk_query(query) %}
  {%- set m = modules.re.match('^(.*\\S)\\s+order\\s+by\\s+(.*\\S)\\s+limit\\s+([0-9]+)(?:\\s+offset\\s+([0-9]+))?\\s*;?$',
                               dbt_pg_trickle.pgtrickle_normalize_query(query), modules.re.IGNORECASE) -%}
  {{ return(m is not none) }}
{% endmacro %}
