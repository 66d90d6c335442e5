{#
  pgtrickle_check_freshness(model_name=none, warn_seconds=600, error_seconds=1800)
  Upstream dbt-pgtrickle name and arguments. run-operation: for each ACTIVE stream table (or
  only model_name's), how long since its last refresh (pg_stat_stream_tables.staleness, or
  st_refresh_stats() for a role that cannot read pg_trickle's catalog); more
  than warn_seconds is a warning, more than error_seconds fails the operation (non-zero exit,
  for CI), naming every table over it. Consecutive refresh errors are warnings. Changes nothing.
  model_name: a stream-table model of this project (its stream_table_name / schema apply), a
  `schema.name`, or a bare stream table name matched in every schema, as upstream does.
  `dbt run-operation pgtrickle_check_freshness --args '{model_name: order_totals, warn_seconds: 300, error_seconds: 900}'`
  Returns: dict(checked, warned, failed) (counts; never returns when something failed).
#}
{% macro pgtrickle_check_freshness(model_name=none, warn_seconds=600, error_seconds=1800) %}
  {% if execute %}
    {%- for key, value in [('warn_seconds', warn_seconds), ('error_seconds', error_seconds)] -%}
      {%- if value is boolean or value is not number or value < 0 -%}
        {{ exceptions.raise_compiler_error("pg_trickle: pgtrickle_check_freshness: " ~ key ~ " `" ~ value ~ "` is not a number of seconds >= 0; pass e.g. `{" ~ key ~ ": 600}`.") }}
      {%- endif -%}
    {%- endfor -%}
    {%- do dbt_pg_trickle.pgtrickle_require_extension() -%}
    {%- set where = [] -%}
    {%- if model_name is not none -%}
      {%- set managed = dbt_pg_trickle.pgtrickle_managed_stream_tables() | selectattr('model_name', 'equalto', model_name) | list -%}
      {%- if managed or '.' in model_name -%}
        {%- set relation = managed[0].relation if managed else dbt_pg_trickle.pgtrickle_relation_from_name(model_name) -%}
        {%- do where.append("and pgt_schema = " ~ dbt_pg_trickle.pgtrickle_sql_value(relation.schema)) -%}
        {%- do where.append("and pgt_name = " ~ dbt_pg_trickle.pgtrickle_sql_value(relation.identifier)) -%}
      {%- else -%}
        {%- do where.append("and pgt_name = " ~ dbt_pg_trickle.pgtrickle_sql_value(model_name)) -%}
      {%- endif -%}
    {%- endif -%}
    {#- st_refresh_stats() has the view's figures and is granted to every role (pg_trickle
        0.96+ grants no SELECT on the view): pgtrickle_reads_catalog -#}
    {%- set source = "(select pgt_schema, pgt_name, status, consecutive_errors, staleness_secs as age from pgtrickle.st_refresh_stats()) s"
        if not dbt_pg_trickle.pgtrickle_reads_catalog()
        else "(select pgt_schema, pgt_name, status, consecutive_errors, extract(epoch from staleness) as age from pgtrickle.pg_stat_stream_tables) s" -%}
    {%- set result = run_query("
      select pgt_schema || '.' || pgt_name as name,
             age::bigint as staleness_seconds, consecutive_errors
      from " ~ source ~ "
      where status = 'ACTIVE' " ~ where | join(' ') ~ "
      order by pgt_schema, pgt_name") -%}
    {%- if model_name is not none and result.rows | length == 0 -%}
      {%- do exceptions.warn("pg_trickle: freshness: no ACTIVE stream table `" ~ model_name ~ "`; nothing checked.") -%}
    {%- endif -%}
    {%- set failed = [] -%}
    {%- set warned = [] -%}
    {%- for row in result.rows -%}
      {%- set age = row['staleness_seconds'] -%}
      {%- set age_text = (age ~ "s since the last refresh") if age is not none else "never refreshed" -%}
      {%- if age is not none and age > error_seconds -%}
        {%- do failed.append(row['name']) -%}
        {%- do log("pg_trickle: freshness: " ~ row['name'] ~ ": ERROR, " ~ age_text ~ " (error_seconds " ~ error_seconds ~ ")", info=true) -%}
      {%- elif age is not none and age > warn_seconds -%}
        {%- do warned.append(row['name']) -%}
        {%- do exceptions.warn("pg_trickle: freshness: " ~ row['name'] ~ ": " ~ age_text ~ " (warn_seconds " ~ warn_seconds ~ ")") -%}
      {%- else -%}
        {%- do log("pg_trickle: freshness: " ~ row['name'] ~ ": fresh, " ~ age_text, info=true) -%}
      {%- endif -%}
      {%- if row['consecutive_errors'] > 0 -%}
        {%- do exceptions.warn("pg_trickle: freshness: " ~ row['name'] ~ ": " ~ row['consecutive_errors'] ~ " consecutive refresh error(s)") -%}
      {%- endif -%}
    {%- endfor -%}
    {%- if failed -%}
      {{ exceptions.raise_compiler_error("pg_trickle: freshness check failed: " ~ failed | length ~ " stream table(s) not refreshed for more than " ~ error_seconds ~ "s: " ~ failed | join(', ') ~ "; refresh them (pgtrickle_refresh) or check the scheduler (pgtrickle_status).") }}
    {%- endif -%}
    {%- do log("pg_trickle: freshness: " ~ result.rows | length ~ " checked, " ~ warned | length ~ " over warn_seconds, 0 over error_seconds", info=true) -%}
    {{ return({'checked': result.rows | length, 'warned': warned | length, 'failed': 0}) }}
  {% endif %}
{% endmacro %}
