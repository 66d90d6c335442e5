{#
  pgtrickle_has_target_freshness()
  True when the installed pg_trickle (0.86.0 and newer) takes `target_freshness` on create and
  alter (`pgt_stream_tables.target_freshness_mode`). Read at most once per dbt thread and
  invocation (cached in the graph object, as pgtrickle_features is).
  Returns: bool.
#}
{% macro pgtrickle_has_target_freshness() %}
  {%- set cache = graph.setdefault('pgtrickle_target_freshness_cache', {}) -%}
  {%- if invocation_id not in cache and execute -%}
    {%- set result = run_query("
      select exists (
        select 1 from pg_catalog.pg_attribute a
        where a.attrelid = to_regclass('pgtrickle.pgt_stream_tables')
          and a.attname = 'target_freshness_mode' and not a.attisdropped
      )") -%}
    {%- do cache.update({invocation_id: result.rows[0][0]}) -%}
  {%- endif -%}
  {{ return(cache.get(invocation_id, false)) }}
{% endmacro %}
