{#
  pgtrickle_check_cdc_health(raise_on_alert=true)
  run-operation: one line per captured source from pgtrickle.check_cdc_health() (source,
  CDC mode, slot, lag, alert). An alert fails the operation (non-zero exit, for CI or an
  orchestrator's health gate), as in the upstream dbt-pgtrickle package, whose name this is;
  raise_on_alert=false only warns.
  Returns: the number of sources with an alert.
#}
{% macro pgtrickle_check_cdc_health(raise_on_alert=true) %}
  {% if execute %}
    {%- do dbt_pg_trickle.pgtrickle_require_extension() -%}
    {%- set result = run_query("select source_table, cdc_mode, slot_name, lag_bytes, confirmed_lsn, alert, selective_capture from pgtrickle.check_cdc_health() order by source_table") -%}
    {%- set alerts = [] -%}
    {%- for row in result.rows -%}
      {%- set line = row['source_table'] ~ ": " ~ row['cdc_mode']
            ~ (", slot " ~ row['slot_name'] if row['slot_name'] else "")
            ~ (", lag " ~ row['lag_bytes'] ~ " bytes" if row['lag_bytes'] is not none else "")
            ~ (", confirmed " ~ row['confirmed_lsn'] if row['confirmed_lsn'] else "")
            ~ (", selective capture" if row['selective_capture'] else "")
            ~ ", " ~ ("ALERT " ~ row['alert'] if row['alert'] else "healthy") -%}
      {%- if row['alert'] -%}
        {%- do alerts.append(row['source_table']) -%}
        {%- do exceptions.warn("pg_trickle: cdc: " ~ line) -%}
      {%- else -%}
        {%- do log("pg_trickle: cdc: " ~ line, info=true) -%}
      {%- endif -%}
    {%- endfor -%}
    {%- do log("pg_trickle: cdc: " ~ result.rows | length ~ " source(s), " ~ alerts | length ~ " with alerts", info=true) -%}
    {%- if alerts and raise_on_alert -%}
      {{ exceptions.raise_compiler_error("pg_trickle: CDC alerts on " ~ alerts | join(', ') ~ "; see pgtrickle.check_cdc_health() and the replication slots.") }}
    {%- endif -%}
    {{ return(alerts | length) }}
  {% endif %}
{% endmacro %}
