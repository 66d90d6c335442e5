{#
  pgtrickle_enable_monitoring()
  Upstream dbt-pgtrickle name. Turn on pg_trickle's self-monitoring (pgtrickle.setup_self_monitoring,
  which creates its df_* stream tables and is idempotent) and commit. Works as a run-operation
  and as a hook (`+post-hook: "{{ dbt_pg_trickle.pgtrickle_enable_monitoring() }}"`): it runs
  when the hook is rendered and renders no SQL itself.
  Fails with a clear message when the installed pg_trickle has no setup_self_monitoring.
#}
{% macro pgtrickle_enable_monitoring() %}
  {% if execute %}
    {%- do dbt_pg_trickle.pgtrickle_require_extension() -%}
    {%- set found = run_query("select to_regprocedure('pgtrickle.setup_self_monitoring()') is not null").rows[0][0] -%}
    {%- if not found -%}
      {{ exceptions.raise_compiler_error("pg_trickle: pgtrickle_enable_monitoring: this pg_trickle has no `pgtrickle.setup_self_monitoring()` (version " ~ dbt_pg_trickle.pgtrickle_features().version ~ "); upgrade pg_trickle, or remove the hook.") }}
    {%- endif -%}
    {%- do dbt_pg_trickle.pgtrickle_run_committed('pgtrickle_enable_monitoring', ['select pgtrickle.setup_self_monitoring()']) -%}
    {%- do log("pg_trickle: self-monitoring enabled", info=true) -%}
  {% endif %}
{% endmacro %}
