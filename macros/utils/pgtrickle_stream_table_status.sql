{#
  pgtrickle_stream_table_status(name, warn_seconds=300)
  Two callers, told apart by the argument:
  - given a described stream table (a dict from pgtrickle_get_stream_tables_info), classify it
    for humans and for the refresh operations. Returns one of 'error' (status ERROR),
    'suspended' (SUSPENDED: paused by config, a fuse or the scheduler's error limit), 'erroring'
    (ACTIVE but failing: consecutive errors; a last error message alone is a leftover
    pg_trickle clears on every way back to ACTIVE, as the health rules say), 'initializing'
    (never populated), 'healthy'. Only 'error' and 'suspended' refuse a manual refresh.
  - given a name ('schema.name' or 'name' in the target schema), the upstream dbt-pgtrickle
    macro of this name: reads pg_stat_stream_tables (st_refresh_stats() when this role cannot
    read pg_trickle's catalog: pgtrickle_reads_catalog) and returns dict(status: 'drained' (the
    scheduler is drained), 'paused' (SUSPENDED, or CDC paused), 'erroring' (consecutive errors or
    ERROR), 'stale' (pg_trickle calls it stale, or more than warn_seconds since the last
    refresh), 'healthy' or 'not_found'; staleness_seconds, consecutive_errors, last_refresh_at,
    total_refreshes, is_populated, refresh_mode, cdc_paused, force_full, is_drained).
#}
{% macro pgtrickle_stream_table_status(name, warn_seconds=300) %}
  {%- if name is mapping -%}
    {%- set info = name -%}
    {%- if info.status == 'ERROR' -%}{{ return('error') }}
    {%- elif info.status == 'SUSPENDED' -%}{{ return('suspended') }}
    {#- a last error message alone is a leftover, not an error (docs/health.md) -#}
    {%- elif info.consecutive_errors > 0 -%}{{ return('erroring') }}
    {%- elif not info.is_populated -%}{{ return('initializing') }}
    {%- else -%}{{ return('healthy') }}
    {%- endif -%}
  {%- endif -%}
  {%- set found = {'status': 'not_found', 'staleness_seconds': none, 'consecutive_errors': 0,
                   'last_refresh_at': none, 'total_refreshes': 0, 'is_populated': false,
                   'refresh_mode': none, 'cdc_paused': false, 'force_full': false, 'is_drained': false} -%}
  {%- if execute -%}
    {%- if warn_seconds is boolean or warn_seconds is not number -%}
      {{ exceptions.raise_compiler_error("pg_trickle: pgtrickle_stream_table_status: warn_seconds `" ~ warn_seconds ~ "` is not a number of seconds; pass e.g. `warn_seconds=300`.") }}
    {%- endif -%}
    {%- set relation = dbt_pg_trickle.pgtrickle_relation_from_name(name) -%}
    {%- set settings_sql -%}
             coalesce(current_setting('pg_trickle.cdc_paused', true) = 'on', false) as cdc_paused,
             coalesce(current_setting('pg_trickle.force_full_refresh', true) = 'on', false) as force_full,
             pgtrickle.is_drained() as is_drained
    {%- endset -%}
    {%- if dbt_pg_trickle.pgtrickle_reads_catalog() -%}
      {%- set result = run_query("
      select s.status as st_status, extract(epoch from s.staleness)::bigint as staleness_seconds,
             s.consecutive_errors, s.last_refresh_at, s.total_refreshes, s.is_populated, s.stale,
             s.refresh_mode, " ~ settings_sql ~ "
      from pgtrickle.pg_stat_stream_tables s
      where s.pgt_schema = " ~ dbt_pg_trickle.pgtrickle_sql_value(relation.schema) ~ "
        and s.pgt_name = " ~ dbt_pg_trickle.pgtrickle_sql_value(relation.identifier)) -%}
    {%- else -%}
      {#- st_refresh_stats(): the same figures from a function pg_trickle grants every role
          (upstream st_refresh_stats; staleness_secs is now() - last_refresh_at, as the view) -#}
      {%- set result = run_query("
      select s.status as st_status, s.staleness_secs::bigint as staleness_seconds,
             s.consecutive_errors, s.last_refresh_at, s.total_refreshes, s.is_populated, s.stale,
             s.refresh_mode, " ~ settings_sql ~ "
      from pgtrickle.st_refresh_stats() s
      where s.pgt_schema = " ~ dbt_pg_trickle.pgtrickle_sql_value(relation.schema) ~ "
        and s.pgt_name = " ~ dbt_pg_trickle.pgtrickle_sql_value(relation.identifier)) -%}
    {%- endif -%}
    {%- if result.rows | length > 0 -%}
      {%- set row = result.rows[0] -%}
      {%- for key in found.keys() if key != 'status' -%}
        {%- do found.update({key: row[key]}) -%}
      {%- endfor -%}
      {%- set age = row['staleness_seconds'] -%}
      {%- if row['is_drained'] -%}{%- do found.update({'status': 'drained'}) -%}
      {%- elif row['st_status'] == 'SUSPENDED' or row['cdc_paused'] -%}{%- do found.update({'status': 'paused'}) -%}
      {%- elif row['consecutive_errors'] > 0 or row['st_status'] == 'ERROR' -%}{%- do found.update({'status': 'erroring'}) -%}
      {%- elif row['stale'] or (age is not none and age > warn_seconds) -%}{%- do found.update({'status': 'stale'}) -%}
      {%- else -%}{%- do found.update({'status': 'healthy'}) -%}
      {%- endif -%}
    {%- endif -%}
  {%- endif -%}
  {{ return(found) }}
{% endmacro %}
