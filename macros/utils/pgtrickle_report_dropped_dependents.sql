{#
  pgtrickle_report_dropped_dependents(model_name, dependents)
  After a recreate dropped dependent stream tables with cascade: log which ones this run
  rebuilds (dbt models selected in it, which dbt runs after their upstream) and warn about the
  rest: models not selected stay absent until they run again; stream tables outside the
  project stay absent until whoever defined them creates them again.
#}
{% macro pgtrickle_report_dropped_dependents(model_name, dependents) %}
  {%- set managed = dbt_pg_trickle.pgtrickle_managed_stream_tables() -%}
  {%- set rebuilt = [] -%}
  {%- set missing = [] -%}
  {%- set outsiders = [] -%}
  {%- for name in dependents -%}
    {%- set matches = managed | selectattr('qualified_name', 'equalto', name) | list -%}
    {%- if matches and matches[0].unique_id in selected_resources -%}
      {%- do rebuilt.append(name ~ ' (model ' ~ matches[0].model_name ~ ')') -%}
    {%- elif matches -%}
      {%- do missing.append(name ~ ' (model ' ~ matches[0].model_name ~ ')') -%}
    {%- else -%}
      {%- do outsiders.append(name) -%}
    {%- endif -%}
  {%- endfor -%}
  {%- do log("pg_trickle: " ~ model_name ~ ": dropped dependent stream tables with cascade: " ~ dependents | join(', ') ~ (("; rebuilt later in this run: " ~ rebuilt | join(', ')) if rebuilt else ''), info=true) -%}
  {%- if missing -%}
    {%- do exceptions.warn("pg_trickle: model `" ~ model_name ~ "`: the rebuild dropped dependent stream tables this run does not recreate: " ~ missing | join(', ') ~ "; run `dbt run -s " ~ model_name ~ "+` to rebuild them.") -%}
  {%- endif -%}
  {%- if outsiders -%}
    {%- do exceptions.warn("pg_trickle: model `" ~ model_name ~ "`: the rebuild dropped stream tables dbt does not manage: " ~ outsiders | join(', ') ~ "; dbt cannot recreate them: create them again where they are defined (or make them dbt models).") -%}
  {%- endif -%}
{% endmacro %}
