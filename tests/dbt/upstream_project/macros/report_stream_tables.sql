{#
  report_stream_tables()
  A project macro using the helper macros upstream documents for custom checks, as a user would
  write it: `dbt run-operation report_stream_tables`.
#}
{% macro report_stream_tables() %}
  {% if execute %}
    {% set st = dbt_pg_trickle.pgtrickle_stream_table_status('order_totals', warn_seconds=300) %}
    {% do log("report: order_totals status=" ~ st.status ~ " populated=" ~ st.is_populated ~ " refreshes=" ~ st.total_refreshes, info=true) %}
    {% set missing = dbt_pg_trickle.pgtrickle_stream_table_status('no_such_table') %}
    {% do log("report: no_such_table status=" ~ missing.status, info=true) %}
    {% do log("report: exists=" ~ dbt_pg_trickle.pgtrickle_stream_table_exists('order_totals') ~ "," ~ dbt_pg_trickle.pgtrickle_stream_table_exists('upstream_reporting.customer_stats_st') ~ "," ~ dbt_pg_trickle.pgtrickle_stream_table_exists('no_such_table'), info=true) %}
    {% set info = dbt_pg_trickle.pgtrickle_get_stream_table_info('order_totals') %}
    {% do log("report: " ~ info.pgt_schema ~ "." ~ info.pgt_name ~ " schedule=" ~ info.schedule ~ " mode=" ~ info.refresh_mode ~ " fuse=" ~ info.fuse_mode, info=true) %}
    {% do dbt_pg_trickle.pgtrickle_refresh_stream_table('order_extremes') %}
    {% do log("report: create_or_replace=" ~ dbt_pg_trickle.pgtrickle_has_create_or_replace(), info=true) %}
    {% set state = dbt_pg_trickle.pgtrickle_operational_status() %}
    {% do log("report: enabled=" ~ state.enabled ~ " cdc_paused=" ~ state.cdc_paused, info=true) %}
    {% if not dbt_pg_trickle.pgtrickle_drain(5) %}
      {{ exceptions.raise_compiler_error("pg_trickle drain timed out.") }}
    {% endif %}
  {% endif %}
{% endmacro %}
