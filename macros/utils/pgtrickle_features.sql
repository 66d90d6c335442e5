{#
  pgtrickle_features()
  What the installed pg_trickle offers, read at most once per dbt thread and invocation and
  cached in the graph object, keyed by invocation id (dbt gives each thread its own copy of the
  context, so `--threads 4` probes up to four times; the probe is one cheap catalog query).
  Returns: dict(version = extversion or none when the extension is missing,
                create_or_replace = whether pgtrickle.create_or_replace_stream_table exists,
                explain_alter = whether pgtrickle.explain_alter exists (0.91.0+),
                pause_stream_table = whether pgtrickle.pause_stream_table exists (0.79.0+),
                catalog_readable = whether this role may SELECT pgtrickle.pgt_stream_tables
                  (USAGE on the schema and SELECT on the table: the rule and the expression of
                  airflow_provider_pgtrickle/capabilities.py, can_read_catalog). pg_trickle
                  0.96+ grants its predefined roles no SELECT on its catalog; a role without it
                  reads through the granted read functions (pgtrickle_reads_catalog)).
#}
{% macro pgtrickle_features() %}
  {%- set cache = graph.setdefault('pgtrickle_features_cache', {}) -%}
  {%- if invocation_id not in cache and execute -%}
    {%- set result = run_query("
      select
        (select extversion from pg_catalog.pg_extension where extname = 'pg_trickle') as version,
        exists (
          select 1 from pg_catalog.pg_proc p
          join pg_catalog.pg_namespace n on n.oid = p.pronamespace
          where n.nspname = 'pgtrickle' and p.proname = 'create_or_replace_stream_table'
        ) as create_or_replace,
        exists (
          select 1 from pg_catalog.pg_proc p
          join pg_catalog.pg_namespace n on n.oid = p.pronamespace
          where n.nspname = 'pgtrickle' and p.proname = 'explain_alter'
        ) as explain_alter,
        exists (
          select 1 from pg_catalog.pg_proc p
          join pg_catalog.pg_namespace n on n.oid = p.pronamespace
          where n.nspname = 'pgtrickle' and p.proname = 'pause_stream_table'
        ) as pause_stream_table,
        coalesce((select pg_catalog.has_schema_privilege(n.oid, 'USAGE')
                         and pg_catalog.has_table_privilege(c.oid, 'SELECT')
                  from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
                  where n.nspname = 'pgtrickle' and c.relname = 'pgt_stream_tables'), false) as catalog_readable") -%}
    {%- set row = result.rows[0] -%}
    {%- do cache.update({invocation_id: {'version': row[0], 'create_or_replace': row[1], 'explain_alter': row[2], 'pause_stream_table': row[3], 'catalog_readable': row[4]}}) -%}
  {%- endif -%}
  {{ return(cache.get(invocation_id, {'version': none, 'create_or_replace': false, 'explain_alter': false, 'pause_stream_table': false, 'catalog_readable': true})) }}
{% endmacro %}
