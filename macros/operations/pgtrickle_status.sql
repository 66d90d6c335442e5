{#
  pgtrickle_status(max_staleness=none)
  run-operation: one line per stream table in the database: its health verdict and reason in
  the Airflow health sensor's words (the same rules, docs/health.md "What healthy means"),
  then status, refresh mode, schedule, seconds since the last refresh, consecutive errors and
  the dbt model managing it, if any. max_staleness (a PostgreSQL interval text or a number of
  seconds) judges staleness as the sensor's max_staleness does. Changes nothing. The first
  line names the installed pg_trickle version and whether it is a tested one (the range comes
  from airflow_provider_pgtrickle/capabilities.py through the generated config vocabulary).
  Then one line per stream table that must be created again before this pg_trickle maintains
  it (pgtrickle_stream_tables_needing_recreation, after an upgrade across 0.87.16; a warning
  names them all).
#}
{% macro pgtrickle_status(max_staleness=none) %}
  {% if execute %}
    {%- set features = dbt_pg_trickle.pgtrickle_require_extension() -%}
    {%- set versions = dbt_pg_trickle.pgtrickle_config_vocabulary()['pg_trickle_versions'] -%}
    {%- set key = features.version.split('.') | map('int') | list -%}
    {%- set tested = namespace(found=false) -%}
    {%- for range in versions['ranges'] -%}
      {%- if range[0] <= key and key <= range[1] -%}{%- set tested.found = true -%}{%- endif -%}
    {%- endfor -%}
    {%- do log("pg_trickle: version " ~ features.version ~ (" (supported)" if tested.found
        else " (NOT a tested version; tested: " ~ versions['text'] ~ ")"), info=true) -%}
    {%- set managed = dbt_pg_trickle.pgtrickle_managed_stream_tables() -%}
    {%- set result = run_query(dbt_pg_trickle.pgtrickle_health_sql(max_staleness=max_staleness)) -%}
    {%- for row in result.rows -%}
      {%- set name = row['pgt_schema'] ~ '.' ~ row['pgt_name'] -%}
      {%- set model = managed | selectattr('qualified_name', 'equalto', name) | list -%}
      {%- set age = row['staleness_seconds'] -%}
      {%- do log("pg_trickle: " ~ name ~ ": " ~ row['health'] ~ ": `" ~ name ~ "` " ~ row['reason']
          ~ "; " ~ row['status'] ~ ", " ~ row['refresh_mode']
          ~ ", schedule " ~ (row['schedule'] or ('none' if row['refresh_mode'] == 'IMMEDIATE' else 'calculated'))
          ~ ", last refresh " ~ (((age | round | int) ~ "s ago") if age is not none else 'never')
          ~ ", errors " ~ row['consecutive_errors']
          ~ (", model " ~ model[0].model_name if model else ", not managed by this project"), info=true) -%}
    {%- endfor -%}
    {%- do log("pg_trickle: " ~ result.rows | length ~ " stream table(s)", info=true) -%}
    {#- after an upgrade across pg_trickle 0.87.16 (docs/upgrading.md) -#}
    {%- set stale_shape = dbt_pg_trickle.pgtrickle_stream_tables_needing_recreation() -%}
    {%- for name in stale_shape -%}
      {%- set model = managed | selectattr('qualified_name', 'equalto', name) | list -%}
      {%- do log("pg_trickle: " ~ name ~ ": NEEDS RECREATION: created before pg_trickle 0.87.16's row identity; "
          ~ ("run `dbt run --full-refresh -s " ~ model[0].model_name ~ "`" if model
             else "not managed by this project: drop it and create it again (docs/upgrading.md)"), info=true) -%}
    {%- endfor -%}
    {%- if stale_shape -%}
      {%- do exceptions.warn("pg_trickle: " ~ stale_shape | length ~ " stream table(s) need recreation before this pg_trickle maintains them: " ~ stale_shape | join(', ') ~ "; see docs/upgrading.md.") -%}
    {%- endif -%}
  {% endif %}
{% endmacro %}
