{#
  pgtrickle_qualified_name(relation)
  The `schema.name` text pg_trickle's functions take: unquoted, because pg_trickle splits the
  text at the first dot and does not strip quotes (names were validated as lowercase
  identifiers by pgtrickle_stream_table_config).
  Returns: text.
#}
{% macro pgtrickle_qualified_name(relation) -%}
  {{- return(relation.include(database=false).quote(schema=false, identifier=false).render()) -}}
{%- endmacro %}
