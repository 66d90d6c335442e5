{#
  pgtrickle_operational_status()
  Upstream dbt-pgtrickle name. The cluster-wide state of pg_trickle, changing nothing; as a
  run-operation it prints it, from a macro it returns it (for instance to stop a job while the
  scheduler is drained). Settings that are not defined read as off.
  Returns: dict(scheduler_running, is_drained, cdc_paused, force_full, backpressure_active,
    enabled); outside execution (parsing) the upstream placeholder: drained, everything else off.
#}
{% macro pgtrickle_operational_status() %}
  {% if execute %}
    {%- do dbt_pg_trickle.pgtrickle_require_extension() -%}
    {%- set result = run_query("
      select
        exists (select from pg_catalog.pg_stat_activity where backend_type = 'pg_trickle scheduler') as scheduler_running,
        pgtrickle.is_drained() as is_drained,
        coalesce(current_setting('pg_trickle.cdc_paused', true) = 'on', false) as cdc_paused,
        coalesce(current_setting('pg_trickle.force_full_refresh', true) = 'on', false) as force_full,
        coalesce(current_setting('pg_trickle.enforce_backpressure', true) = 'on', false) as backpressure_active,
        coalesce(current_setting('pg_trickle.enabled', true) = 'on', false) as enabled") -%}
    {%- set state = {} -%}
    {%- for column in result.column_names -%}
      {%- do state.update({column: result.rows[0][column]}) -%}
    {%- endfor -%}
    {%- do log("pg_trickle: operational status: " ~ state.items() | map('join', '=') | join(', '), info=true) -%}
    {{ return(state) }}
  {% endif %}
  {{ return({'scheduler_running': false, 'is_drained': true, 'cdc_paused': false,
             'force_full': false, 'backpressure_active': false, 'enabled': false}) }}
{% endmacro %}
