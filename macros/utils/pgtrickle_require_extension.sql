{#
  pgtrickle_require_extension()
  Fail with a clear message when pg_trickle is not installed in the target database.
  Returns: the features dict of pgtrickle_features().
#}
{% macro pgtrickle_require_extension() %}
  {%- set features = dbt_pg_trickle.pgtrickle_features() -%}
  {%- if execute and features.version is none -%}
    {{ exceptions.raise_compiler_error(
        "pg_trickle: the extension `pg_trickle` is not installed in database `" ~ target.dbname
        ~ "`; run `CREATE EXTENSION pg_trickle` as a superuser (PostgreSQL 18).") }}
  {%- endif -%}
  {{ return(features) }}
{% endmacro %}
