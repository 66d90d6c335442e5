{#
  pgtrickle_drain(timeout_s=60)
  Upstream dbt-pgtrickle name and argument. run-operation (or call from a macro): ask the
  pg_trickle scheduler to finish its in-flight refreshes and start no new ones, waiting up to
  timeout_s seconds (pgtrickle.drain; below 1 pg_trickle uses its drain_timeout setting).
  `dbt run-operation pgtrickle_drain --args '{timeout_s: 120}'`
  Returns: true when drained, false when the wait timed out (pg_trickle then cancels the drain).
#}
{% macro pgtrickle_drain(timeout_s=60) %}
  {% if execute %}
    {%- if timeout_s is boolean or timeout_s is not number or timeout_s != (timeout_s | int) -%}
      {{ exceptions.raise_compiler_error("pg_trickle: pgtrickle_drain: timeout_s `" ~ timeout_s ~ "` is not a whole number of seconds; pass e.g. `{timeout_s: 60}`.") }}
    {%- endif -%}
    {%- do dbt_pg_trickle.pgtrickle_require_extension() -%}
    {%- set drained = run_query("select pgtrickle.drain(timeout_s => " ~ (timeout_s | int) ~ ")").rows[0][0] -%}
    {%- if drained -%}
      {%- do log("pg_trickle: drain: scheduler drained", info=true) -%}
    {%- else -%}
      {%- do exceptions.warn("pg_trickle: drain: refreshes still running after " ~ timeout_s ~ "s; pg_trickle cancelled the drain.") -%}
    {%- endif -%}
    {{ return(drained) }}
  {% endif %}
  {{ return(false) }}
{% endmacro %}
