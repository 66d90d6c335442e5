{#
  pgtrickle_query_matches(query, actual)
  Whether a model's SQL is the query an existing stream table already has, compared the way
  pg_trickle compares them (pg_trickle src/api/create.rs, normalize_sql_whitespace: whitespace runs collapsed, then trimmed). For a TopK stream
  table pg_trickle stored the query without its trailing ORDER BY ... LIMIT n [OFFSET m] (spec
  4.1), so the model's SQL is split the same way and compared part by part, keywords in any case.
  Args: query - the model's compiled SQL; actual - pgtrickle_get_stream_table_info(...).
  Returns: bool.
#}
{% macro pgtrickle_query_matches(query, actual) %}
  {%- set normalize = dbt_pg_trickle.pgtrickle_normalize_query -%}
  {%- if normalize(query) == normalize(actual.query) -%}{{ return(true) }}{%- endif -%}
  {%- if actual.topk is none or actual.original_query -%}{{ return(false) }}{%- endif -%}
  {%- set re = modules.re -%}
  {%- set m = re.match('^(.*\\S)\\s+order\\s+by\\s+(.*\\S)\\s+limit\\s+([0-9]+)(?:\\s+offset\\s+([0-9]+))?\\s*;?$',
                       normalize(query), re.IGNORECASE) -%}
  {%- if m is none -%}{{ return(false) }}{%- endif -%}
  {%- set offset = (m.group(4) | int) if m.group(4) else none -%}
  {{ return(normalize(m.group(1)) == normalize(actual.defining_query)
            and normalize(m.group(2)) == normalize(actual.topk.order_by)
            and (m.group(3) | int) == actual.topk.limit
            and offset == actual.topk.offset) }}
{% endmacro %}
