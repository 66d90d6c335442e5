{#
  pgtrickle_has_orchestration_mode()
  True when the installed pg_trickle (0.93.0 and newer) records who refreshes a stream table
  (`pgt_stream_tables.orchestration_mode`, changed by `pgtrickle.set_orchestration_mode`).
  Read at most once per dbt thread and invocation (cached in the graph object, as
  pgtrickle_features is).
  Returns: bool.
#}
{% macro pgtrickle_has_orchestration_mode() %}
  {%- set cache = graph.setdefault('pgtrickle_orchestration_cache', {}) -%}
  {%- if invocation_id not in cache and execute -%}
    {%- set result = run_query("
      select exists (
        select 1 from pg_catalog.pg_proc p
        join pg_catalog.pg_namespace n on n.oid = p.pronamespace
        where n.nspname = 'pgtrickle' and p.proname = 'set_orchestration_mode'
      )") -%}
    {%- do cache.update({invocation_id: result.rows[0][0]}) -%}
  {%- endif -%}
  {{ return(cache.get(invocation_id, false)) }}
{% endmacro %}
