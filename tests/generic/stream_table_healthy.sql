{#
  stream_table_healthy(model, max_staleness=none, stream_table_name=none, stream_table_schema=none, warn_seconds=none)
  Generic test: one failing row when the model's stream table is missing, not ACTIVE (also
  SUSPENDED, ERROR, or INITIALIZING = never populated), has errors (consecutive_errors or a
  last error message), is not populated, or - with max_staleness, a PostgreSQL interval such as
  '15 minutes' - was last refreshed longer ago than that (IMMEDIATE tables are never stale).
  warn_seconds (the upstream dbt-pgtrickle argument, same meaning): a number of seconds; one
  failing row when more time than that has passed since the last refresh, or pg_trickle
  reports the table stale (pg_stat_stream_tables.stale: older than its schedule). Despite the
  name it fails the test like any other row; add `config: {severity: warn}` for a warning.
  The stream table is found through the model's stream_table_name / stream_table_schema
  config; the arguments override that (for stream tables dbt does not manage).
#}
{% test stream_table_healthy(model, max_staleness=none, stream_table_name=none, stream_table_schema=none, warn_seconds=none) %}
  {%- if execute and warn_seconds is not none and (warn_seconds is boolean or warn_seconds is not number or warn_seconds < 0) -%}
    {{ exceptions.raise_compiler_error("pg-trickle: stream_table_healthy on `" ~ model.identifier ~ "`: warn_seconds `" ~ warn_seconds ~ "` is not a number of seconds >= 0; write e.g. `warn_seconds: 600`.") }}
  {%- endif -%}
  {%- set managed = dbt_pg_trickle.pgtrickle_find_stream_table_for_relation(model) -%}
  {%- set schema = stream_table_schema or (managed.desired.schema if managed else model.schema) -%}
  {%- set name = stream_table_name or (managed.desired.name if managed else model.identifier) -%}
with stream_table as (
  select pgt_id, pgt_schema, pgt_name, status, is_populated, consecutive_errors, last_error_message,
         refresh_mode, last_refresh_at
  from pgtrickle.pgt_stream_tables
  where pgt_schema = {{ dbt_pg_trickle.pgtrickle_sql_value(schema) }} and pgt_name = {{ dbt_pg_trickle.pgtrickle_sql_value(name) }}
),
checked as (
  select
    {{ dbt_pg_trickle.pgtrickle_sql_value(schema ~ '.' ~ name) }}::text as stream_table,
    case
      when st.pgt_name is null then 'missing: no such stream table'
      when st.status <> 'ACTIVE' then 'status ' || st.status || coalesce(': ' || st.last_error_message, '')
      when st.consecutive_errors > 0 or st.last_error_message is not null
        then 'errors: ' || st.consecutive_errors || ' consecutive' || coalesce(' (' || st.last_error_message || ')', '')
      when not st.is_populated then 'not populated'
      {%- if max_staleness is not none %}
      when st.refresh_mode <> 'IMMEDIATE'
           and (st.last_refresh_at is null or now() - st.last_refresh_at > {{ dbt_pg_trickle.pgtrickle_sql_value(max_staleness | string) }}::interval)
        then 'stale: last refreshed ' || coalesce(date_trunc('second', now() - st.last_refresh_at)::text || ' ago', 'never')
      {%- endif %}
      {%- if warn_seconds is not none %}
      when st.refresh_mode <> 'IMMEDIATE'
           and (stat.stale or extract(epoch from stat.staleness) > {{ warn_seconds }})
        then 'stale: last refreshed ' || date_trunc('second', stat.staleness)::text || ' ago'
             || case when stat.stale then ', longer than its schedule' else '' end
             || ' (warn_seconds {{ warn_seconds }})'
      {%- endif %}
    end as problem
  from (select 1) as one
  left join stream_table as st on true
  {%- if warn_seconds is not none %}
  left join pgtrickle.pg_stat_stream_tables as stat on stat.pgt_id = st.pgt_id
  {%- endif %}
)
select stream_table, problem from checked where problem is not null
{% endtest %}
