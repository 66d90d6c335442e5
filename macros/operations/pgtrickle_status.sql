{#
  pgtrickle_status()
  run-operation: one line per stream table in the database: status, refresh mode, schedule,
  staleness (since the last refresh, as pg_stat_stream_tables measures it), errors, and the
  dbt model managing it, if any. Changes nothing.
#}
{% macro pgtrickle_status() %}
  {% if execute %}
    {%- do dbt_pg_trickle.pgtrickle_require_extension() -%}
    {%- set managed = dbt_pg_trickle.pgtrickle_managed_stream_tables() -%}
    {%- set result = run_query("
      select s.pgt_schema || '.' || s.pgt_name as name, s.status, s.refresh_mode, s.schedule,
             s.is_populated, date_trunc('second', s.staleness)::text as staleness, s.stale,
             s.consecutive_errors, t.last_error_message
      from pgtrickle.pg_stat_stream_tables s
      join pgtrickle.pgt_stream_tables t on t.pgt_id = s.pgt_id
      order by s.pgt_schema, s.pgt_name") -%}
    {%- for row in result.rows -%}
      {%- set model = managed | selectattr('qualified_name', 'equalto', row['name']) | list -%}
      {%- do log("pg-trickle: " ~ row['name'] ~ ": " ~ row['status'] ~ ", " ~ row['refresh_mode']
          ~ ", schedule " ~ (row['schedule'] or ('none' if row['refresh_mode'] == 'IMMEDIATE' else 'calculated'))
          ~ ", staleness " ~ (row['staleness'] or 'n/a') ~ (" (stale)" if row['stale'] else "")
          ~ ("" if row['is_populated'] else ", not populated")
          ~ ", errors " ~ row['consecutive_errors']
          ~ (" (" ~ row['last_error_message'] ~ ")" if row['last_error_message'] else "")
          ~ (", model " ~ model[0].model_name if model else ", not managed by this project"), info=true) -%}
    {%- endfor -%}
    {%- do log("pg-trickle: " ~ result.rows | length ~ " stream table(s)", info=true) -%}
  {% endif %}
{% endmacro %}
