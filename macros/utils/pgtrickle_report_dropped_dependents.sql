{#
  pgtrickle_report_dropped_dependents(model_name, dependents)
  After a recreate dropped dependent stream tables with cascade and created them again in the
  same transaction (pgtrickle_get_recreate_dependents_plan): log which ones, and warn about
  the ones dbt does not manage, whose grants and hand-made indexes are gone with the old
  table (dbt only knows the configs of its own models).
#}
{% macro pgtrickle_report_dropped_dependents(model_name, dependents) %}
  {%- set managed = dbt_pg_trickle.pgtrickle_managed_stream_tables() | map(attribute='qualified_name') | list -%}
  {%- set outsiders = dependents | reject('in', managed) | list -%}
  {%- do log("pg_trickle: " ~ model_name ~ ": the rebuild dropped dependent stream tables with cascade and created them again, in dependency order: " ~ dependents | join(', '), info=true) -%}
  {%- if outsiders -%}
    {%- do exceptions.warn("pg_trickle: model `" ~ model_name ~ "`: the rebuild dropped and created again stream tables dbt does not manage, from their catalog definitions: " ~ outsiders | join(', ') ~ "; grants and indexes made on them by hand are gone: apply them again where they are defined (or make them dbt models).") -%}
  {%- endif -%}
{% endmacro %}
