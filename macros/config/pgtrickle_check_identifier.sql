{#
  pgtrickle_check_identifier(value, is_schema, vocab=none)
  Whether a stream table name (or, with is_schema, a schema name) follows the vocabulary's
  identifier rule: the pattern (ASCII only, so after it matched the length in characters is
  the length in bytes) and at most max_bytes bytes; a schema must not be reserved (pg_*,
  information_schema, pgtrickle, pgtrickle_changes).
  Returns: none when it does, else the text saying what is accepted.
#}
{% macro pgtrickle_check_identifier(value, is_schema, vocab=none) %}
  {%- set rule = (vocab or dbt_pg_trickle.pgtrickle_config_vocabulary()).identifier -%}
  {%- if value is not string or not modules.re.match(rule.pattern, value) or value | length > rule.max_bytes -%}
    {{ return(rule.accepted) }}
  {%- endif -%}
  {%- if is_schema and (value.startswith(rule.reserved_schema_prefix) or value in rule.reserved_schemas) -%}
    {{ return(rule.reserved_accepted) }}
  {%- endif -%}
  {{ return(none) }}
{% endmacro %}
