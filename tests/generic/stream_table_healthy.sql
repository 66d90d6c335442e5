{#
  stream_table_healthy(model, max_staleness=none, stream_table_name=none, stream_table_schema=none)
  Generic test: one failing row when the model's stream table is missing, not ACTIVE (also
  SUSPENDED, ERROR, or INITIALIZING = never populated), has errors (consecutive_errors or a
  last error message), is not populated, or - with max_staleness, a PostgreSQL interval such as
  '15 minutes' - was last refreshed longer ago than that (IMMEDIATE tables are never stale).
  The stream table is found through the model's stream_table_name / stream_table_schema
  config; the arguments override that (for stream tables dbt does not manage).
#}
{% test stream_table_healthy(model, max_staleness=none, stream_table_name=none, stream_table_schema=none) %}
  {%- set managed = dbt_pg_trickle.pgtrickle_find_stream_table_for_relation(model) -%}
  {%- set schema = stream_table_schema or (managed.desired.schema if managed else model.schema) -%}
  {%- set name = stream_table_name or (managed.desired.name if managed else model.identifier) -%}
with stream_table as (
  select pgt_schema, pgt_name, status, is_populated, consecutive_errors, last_error_message,
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
    end as problem
  from (select 1) as one
  left join stream_table as st on true
)
select stream_table, problem from checked where problem is not null
{% endtest %}
