{#
  pgtrickle_health_sql(stream_table=none, max_staleness=none, warn_seconds=none, within_schedule=false)
  The health query of the Airflow health sensor, from the same rules (the generated
  pgtrickle_health_vocabulary, rendered from airflow_provider_pgtrickle/vocabulary/health.py):
  one row per stream table with its columns plus `health` (healthy, waiting, failed, missing,
  paused)
  and `reason` (the sensor's words). Every value goes in as a literal (pgtrickle_sql_value).
  stream_table: {'schema': ..., 'name': ...} for one table (not in the catalog: one row
    judged `missing`); none for every stream table, by schema and name.
  max_staleness: a PostgreSQL interval text ('15 minutes') or a number of seconds.
  warn_seconds: a number of seconds; the smaller of the two limits applies.
  within_schedule: also stale when older than the table's own duration schedule.
  Returns: SQL text (a SELECT).
#}
{% macro pgtrickle_health_sql(stream_table=none, max_staleness=none, warn_seconds=none, within_schedule=false) -%}
  {%- set rules = dbt_pg_trickle.pgtrickle_health_vocabulary() -%}
  {%- set limits = [] -%}
  {%- if max_staleness is number and max_staleness is not boolean -%}
    {%- do limits.append(dbt_pg_trickle.pgtrickle_sql_value(max_staleness)) -%}
  {%- elif max_staleness is not none -%}
    {%- do limits.append("extract(epoch from " ~ dbt_pg_trickle.pgtrickle_sql_value(max_staleness | string) ~ "::interval)") -%}
  {%- endif -%}
  {%- if warn_seconds is not none -%}
    {%- do limits.append(dbt_pg_trickle.pgtrickle_sql_value(warn_seconds)) -%}
  {%- endif -%}
  {%- set one = stream_table is not none -%}
  {{ rules.columns }} from (select
    {{ dbt_pg_trickle.pgtrickle_sql_value(stream_table.schema if one else none) }}::text as pgt_schema,
    {{ dbt_pg_trickle.pgtrickle_sql_value(stream_table.name if one else none) }}::text as pgt_name,
    {{ ("least(" ~ limits | join(", ") ~ ")") if limits else "null" }}::float8 as max_staleness,
    null::timestamptz as min_data_timestamp,
    {{ dbt_pg_trickle.pgtrickle_sql_value(within_schedule) }}::boolean as within_schedule,
    false as require_sla) as req
  {%- if one %}{{ rules.lookup }}{% else %} cross join pgtrickle.pgt_stream_tables as st{% endif %}
  {{- rules.verdict }}
  {%- if not one %} order by st.pgt_schema, st.pgt_name{% endif %}
{%- endmacro %}
