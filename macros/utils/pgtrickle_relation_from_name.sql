{#
  pgtrickle_relation_from_name(name, schema=none)
  A relation for a stream table given the way the upstream dbt-pgtrickle package takes names:
  text 'schema.name' as is, a bare 'name' in `schema` or else the target schema. A relation
  passes through unchanged, so macros can take either.
  Returns: a table relation.
#}
{% macro pgtrickle_relation_from_name(name, schema=none) %}
  {%- if name is not string -%}{{ return(name) }}{%- endif -%}
  {%- set parts = name.split('.') -%}
  {%- if parts | length > 2 or '' in parts -%}
    {{ exceptions.raise_compiler_error("pg_trickle: `" ~ name ~ "` is not a stream table name; give `name` or `schema.name`.") }}
  {%- endif -%}
  {%- set st_schema = parts[0] if parts | length == 2 else (schema or target.schema) -%}
  {{ return(api.Relation.create(database=target.dbname, schema=st_schema, identifier=parts[-1], type='table')) }}
{% endmacro %}
