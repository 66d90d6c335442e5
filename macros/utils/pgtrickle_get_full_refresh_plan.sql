{#
  pgtrickle_get_full_refresh_plan(desired, actual, recreate_statements)
  The plan for `dbt run --full-refresh` of an existing stream table (the shape
  pgtrickle_get_stream_table_plan returns). The table is rebuilt in place, so nothing that
  reads it is dropped and its pgt_id, grants and dependents survive:
    resume (only when it is SUSPENDED or in ERROR: a full refresh is the documented way out
      of a status pg_trickle set, and a suspended table cannot be refreshed),
    one alter with whatever differs (the query included, applied in place),
    repair_stream_table (resets the frontier: the next refresh is FULL) +
    refresh_stream_table (that FULL refresh, now: TRUNCATE and re-run the query;
      pg_trickle src/api/refresh_ops.rs, the needs_reinit path),
    and status => 'SUSPENDED' again when the model asks for it.
  Only when it was created before this pg_trickle's row identity (info.needs_recreation:
  pg_trickle 0.87.16+ refreshes no table of the old shape; docs/upgrading.md), when a relation
  it reads was dropped (pg_trickle follows sources by OID: only a new
  stream table reads the one created again in its place, e.g. by `dbt seed --full-refresh`),
  when create-time settings differ from the catalog's (temporal, pooler_compatibility_mode,
  storage_backend: create_stream_table is the only call that sets them), or the query changed and this pg_trickle cannot replace a query in place
  (pgtrickle_has_create_or_replace), is the storage really recreated: drop + create, and the
  dependent stream tables dropped with cascade are created again in the same transaction
  (pgtrickle_get_recreate_dependents_plan).
  Args: desired, actual - as pgtrickle_get_stream_table_plan; recreate_statements - drop +
    create of this table.
  Returns: the plan dict.
#}
{% macro pgtrickle_get_full_refresh_plan(desired, actual, recreate_statements) %}
  {%- set relation = desired.relation -%}
  {%- set changes = dbt_pg_trickle.pgtrickle_stream_table_changes(desired, actual) -%}
  {%- set create_time = [] -%}
  {%- set unknown = actual.unknown or [] -%}
  {%- if 'temporal' not in unknown and (desired.temporal or false) != (actual.temporal or false) -%}{%- do create_time.append('temporal') -%}{%- endif -%}
  {%- if 'pooler_compatibility_mode' not in unknown and (desired.pooler_compatibility_mode or false) != (actual.pooler_compatibility_mode or false) -%}
    {%- do create_time.append('pooler_compatibility_mode') -%}
  {%- endif -%}
  {%- if desired.storage_backend is not none and actual.storage_backend is not none and desired.storage_backend != actual.storage_backend -%}
    {%- do create_time.append('storage_backend') -%}
  {%- endif -%}
  {%- set lost_source = dbt_pg_trickle.pgtrickle_has_lost_source(actual) -%}
  {%- set no_replace = changes.query_changed and not dbt_pg_trickle.pgtrickle_has_create_or_replace() -%}
  {%- if lost_source or create_time or no_replace or actual.needs_recreation -%}
    {%- set dependents = dbt_pg_trickle.pgtrickle_get_recreate_dependents_plan(actual) -%}
    {{ return({'action': 'recreate', 'statements': recreate_statements + dependents.statements,
               'outcome': 'recreated (full refresh; '
                   ~ ("created before pg_trickle 0.87.16's row identity" if actual.needs_recreation
                      else 'a source relation was dropped' if lost_source
                      else ('create-time settings changed: ' ~ create_time | join(', ')) if create_time
                      else 'this pg_trickle cannot replace a query in place') ~ ')',
               'labels': changes.labels, 'dependents': dependents.names, 'recreated': dependents.recreated, 'held': none}) }}
  {%- endif -%}
  {%- set statements = [] -%}
  {%- set notes = [] -%}
  {%- if actual.status in ['SUSPENDED', 'ERROR'] -%}
    {%- do statements.append(dbt_pg_trickle.pgtrickle_get_resume_stream_table_sql(relation)) -%}
    {%- do notes.append('resumed from ' ~ actual.status) -%}
  {%- endif -%}
  {%- set send = dict(changes.settings) -%}
  {%- do send.pop('status', none) -%}
  {%- if send or changes.query_changed -%}
    {%- do statements.append(dbt_pg_trickle.pgtrickle_get_alter_stream_table_sql(relation, send, query=(desired.query if changes.query_changed else none))) -%}
  {%- endif -%}
  {%- do statements.append(dbt_pg_trickle.pgtrickle_get_repair_stream_table_sql(relation)) -%}
  {%- do statements.append(dbt_pg_trickle.pgtrickle_get_refresh_stream_table_sql(relation)) -%}
  {%- if desired.status == 'SUSPENDED' -%}
    {%- do statements.append(dbt_pg_trickle.pgtrickle_get_alter_stream_table_sql(relation, {'status': 'SUSPENDED'})) -%}
  {%- endif -%}
  {%- set others = changes.labels | reject('equalto', 'query') | list -%}
  {{ return({'action': 'full_refresh', 'statements': statements,
             'outcome': 'refreshed in place (full refresh'
                 ~ ('; query replaced' if changes.query_changed else '')
                 ~ ('; altered (' ~ others | join(', ') ~ ')' if others else '')
                 ~ (('; ' ~ notes | join('; ')) if notes else '') ~ ')',
             'labels': changes.labels, 'dependents': [], 'recreated': [], 'held': none}) }}
{% endmacro %}
