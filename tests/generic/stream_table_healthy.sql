{#
  stream_table_healthy(model, max_staleness=none, stream_table_name=none, stream_table_schema=none, warn_seconds=none)
  Generic test: one failing row (stream_table, health, reason) when the model's stream table is
  not healthy by the rules the Airflow health sensor applies (docs/health.md, "What healthy
  means"; the SQL comes from the generated pgtrickle_health_vocabulary): missing, ERROR or
  SUSPENDED, not populated, consecutive refresh errors, or - with max_staleness, a PostgreSQL
  interval such as '15 minutes' - last refreshed longer ago than that. IMMEDIATE tables are
  never stale.
  warn_seconds (the upstream dbt-pgtrickle argument, same meaning): a number of seconds; one
  failing row when more time than that has passed since the last refresh, or pg_trickle calls
  the table stale (older than its own duration schedule). Despite the name it fails the test
  like any other row; add `config: {severity: warn}` for a warning.
  The stream table is found through the model's stream_table_name / stream_table_schema
  config; the arguments override that (for stream tables dbt does not manage).
#}
{% test stream_table_healthy(model, max_staleness=none, stream_table_name=none, stream_table_schema=none, warn_seconds=none) %}
  {%- if execute and warn_seconds is not none and (warn_seconds is boolean or warn_seconds is not number or warn_seconds < 0) -%}
    {{ exceptions.raise_compiler_error("pg_trickle: stream_table_healthy on `" ~ model.identifier ~ "`: warn_seconds `" ~ warn_seconds ~ "` is not a number of seconds >= 0; write e.g. `warn_seconds: 600`.") }}
  {%- endif -%}
  {%- set managed = dbt_pg_trickle.pgtrickle_find_stream_table_for_relation(model) -%}
  {%- set schema = stream_table_schema or (managed.desired.schema if managed else model.schema) -%}
  {%- set name = stream_table_name or (managed.desired.name if managed else model.identifier) -%}
select pgt_schema || '.' || pgt_name as stream_table, health, reason
from ({{ dbt_pg_trickle.pgtrickle_health_sql(
    stream_table={'schema': schema, 'name': name},
    max_staleness=max_staleness,
    warn_seconds=warn_seconds,
    within_schedule=warn_seconds is not none) }}) as judged
where health <> 'healthy'
{% endtest %}
