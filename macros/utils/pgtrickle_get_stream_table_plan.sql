{#
  pgtrickle_get_stream_table_plan(desired, actual, full_refresh=false)
  Decide what a run does to one stream table and return the SQL for it, without executing
  anything (the materialization runs it; the pgtrickle_plan operation only prints it).
  Args: desired - pgtrickle_stream_table_config(...) plus `query`; actual -
    pgtrickle_get_stream_table_info(...) or none; full_refresh - dbt's --full-refresh.
  Returns: dict(
    action: 'create' | 'recreate' | 'replace' | 'alter' | 'none' | 'skip' | 'fail'
      ('skip' / 'fail': changes found but on_configuration_change is continue / fail),
    statements: SQL texts to run in one committed transaction (empty unless something changes),
    outcome: what the run result reports, e.g. 'altered (schedule, status)',
    labels: what differs, dependents: stream tables a recreate drops with cascade,
    held: pgtrickle_held_reason(actual) when that status outlives the run, else none).
  Lifecycle:
    absent -> create (+ alter for what create cannot set: status, fuse);
    --full-refresh -> drop (cascade when other stream tables read it) + create;
    query changed -> one alter with the query and whatever else differs, in place (same pgt_id),
      when pg_trickle can (see pgtrickle_has_create_or_replace) and fills the right columns
      afterwards (pgtrickle_query_fits_in_place), else drop + create;
    other differences -> one alter with only what differs; else nothing.
  Status: a SUSPENDED table stays SUSPENDED through alters and replaces that would rebuild it
  (status => 'SUSPENDED' goes along, processed last by pg_trickle) unless the model asks for
  ACTIVE and pg_trickle did not suspend it. pg_trickle takes an ERROR table that gets an alter
  out of ERROR itself (pg_trickle src/api/alter.rs, alter_stream_table_impl); the model's
  status then applies (a second alter when it is SUSPENDED) and the outcome says so.
#}
{% macro pgtrickle_get_stream_table_plan(desired, actual, full_refresh=false) %}
  {%- set relation = desired.relation -%}
  {%- set immediate = desired.refresh_mode == 'IMMEDIATE' -%}
  {#- the last four are create-time only (upstream dbt-pgtrickle keys), left out at their defaults -#}
  {%- set create_args = {
      'schedule': none if immediate else (desired.schedule or 'calculated'),
      'refresh_mode': desired.refresh_mode,
      'initialize': desired.initialize,
      'diamond_consistency': desired.diamond_consistency,
      'diamond_schedule_policy': desired.diamond_schedule_policy,
      'cdc_mode': desired.cdc_mode,
      'append_only': desired.append_only,
      'partition_by': desired.partition_by,
      'max_differential_joins': desired.max_differential_joins,
      'max_delta_fraction': desired.max_delta_fraction,
      'pooler_compatibility_mode': desired.pooler_compatibility_mode or none,
      'output_distribution_column': desired.output_distribution_column,
      'temporal': desired.temporal or none,
      'storage_backend': desired.storage_backend,
  } -%}
  {#- create cannot set status or fuse settings: an alter in the same transaction does -#}
  {%- set after_create = {} -%}
  {%- if desired.status == 'SUSPENDED' -%}{%- do after_create.update({'status': 'SUSPENDED'}) -%}{%- endif -%}
  {%- if desired.fuse != 'off' -%}{%- do after_create.update({'fuse': desired.fuse}) -%}{%- endif -%}
  {%- for key in ['fuse_ceiling', 'fuse_sensitivity'] if desired[key] is not none -%}
    {%- do after_create.update({key: desired[key]}) -%}
  {%- endfor -%}
  {%- set create_statements = [
      'create schema if not exists ' ~ relation.without_identifier().include(database=false),
      dbt_pg_trickle.pgtrickle_get_create_stream_table_sql(relation, desired.query, create_args)] -%}
  {%- if after_create -%}
    {%- do create_statements.append(dbt_pg_trickle.pgtrickle_get_alter_stream_table_sql(relation, after_create)) -%}
  {%- endif -%}

  {%- if actual is none -%}
    {{ return({'action': 'create', 'statements': create_statements, 'outcome': 'created', 'labels': [], 'dependents': [], 'held': none}) }}
  {%- endif -%}

  {%- set drop_sql = dbt_pg_trickle.pgtrickle_get_drop_stream_table_sql(relation, cascade=actual.has_dependents) -%}
  {%- if full_refresh -%}
    {{ return({'action': 'recreate', 'statements': [drop_sql] + create_statements,
               'outcome': 'recreated (full refresh)', 'labels': [], 'dependents': dbt_pg_trickle.pgtrickle_get_stream_table_dependents(actual), 'held': none}) }}
  {%- endif -%}

  {%- set changes = dbt_pg_trickle.pgtrickle_stream_table_changes(desired, actual) -%}
  {%- if changes.labels | length == 0 -%}
    {{ return({'action': 'none', 'statements': [], 'outcome': 'unchanged', 'labels': [], 'dependents': [], 'held': changes.held}) }}
  {%- endif -%}
  {%- if desired.on_configuration_change != 'apply' -%}
    {%- set action = 'skip' if desired.on_configuration_change == 'continue' else 'fail' -%}
    {{ return({'action': action, 'statements': [],
               'outcome': 'unchanged (on_configuration_change=' ~ desired.on_configuration_change ~ '; not applied: ' ~ changes.labels | join(', ') ~ ')',
               'labels': changes.labels, 'dependents': [], 'held': changes.held}) }}
  {%- endif -%}

  {%- set keep_suspended = actual.status == 'SUSPENDED' and 'status' not in changes.settings -%}
  {%- set held = changes.held if actual.status == 'SUSPENDED' else none -%}
  {%- set send = dict(changes.settings) -%}
  {%- if keep_suspended -%}{%- do send.update({'status': 'SUSPENDED'}) -%}{%- endif -%}
  {#- pg_trickle sets an ERROR table ACTIVE at the end of every alter, after applying the
      `status` it was given (pg_trickle src/api/alter.rs, alter_stream_table_impl), so a status
      the model wants goes in a second alter in the same transaction -#}
  {%- set status_after = none -%}
  {%- set reset_note = '' -%}
  {%- if actual.status == 'ERROR' -%}
    {%- set status_after = send.pop('status', desired.status) -%}
    {%- set status_after = none if status_after == 'ACTIVE' else status_after -%}
    {%- set reset_note = '; pg_trickle reset its ERROR status' ~ (('; ' ~ status_after ~ ' as the model sets') if status_after else ' to ACTIVE') -%}
  {%- endif -%}

  {%- if changes.query_changed and not dbt_pg_trickle.pgtrickle_has_create_or_replace() -%}
    {{ return({'action': 'recreate', 'statements': [drop_sql] + create_statements,
               'outcome': 'recreated (query changed; this pg_trickle cannot replace a query in place)',
               'labels': changes.labels, 'dependents': dbt_pg_trickle.pgtrickle_get_stream_table_dependents(actual), 'held': none}) }}
  {%- endif -%}
  {#- pg_trickle 0.67.0 would migrate the storage and then fill it by position, with values in
      the wrong columns, when the new query adds a column behind its helper columns, renames,
      reorders or retypes one (pgtrickle_query_fits_in_place): drop + create instead -#}
  {%- if changes.query_changed and not dbt_pg_trickle.pgtrickle_query_fits_in_place(actual, desired.query) -%}
    {{ return({'action': 'recreate', 'statements': [drop_sql] + create_statements,
               'outcome': 'recreated (query changed; its columns cannot be migrated in place)',
               'labels': changes.labels, 'dependents': dbt_pg_trickle.pgtrickle_get_stream_table_dependents(actual), 'held': none}) }}
  {%- endif -%}

  {#- One alter carries everything that differs, the query included: pg_trickle migrates the
      query first (in place: same pgt_id, dependents and grants survive), then applies the
      settings. Not create_or_replace_stream_table: it compares a TopK query without its
      ORDER BY / LIMIT / OFFSET and ignores topk_*, so such a change would be dropped
      (pg_trickle src/api/create.rs); it delegates to this same alter anyway. -#}
  {%- set statements = [dbt_pg_trickle.pgtrickle_get_alter_stream_table_sql(relation, send, query=(desired.query if changes.query_changed else none))] -%}
  {%- if status_after -%}
    {%- do statements.append(dbt_pg_trickle.pgtrickle_get_alter_stream_table_sql(relation, {'status': status_after})) -%}
  {%- endif -%}
  {%- set others = changes.labels | reject('equalto', 'query') | list -%}
  {%- if changes.query_changed -%}
    {{ return({'action': 'replace', 'statements': statements,
               'outcome': 'query replaced in place' ~ (', altered (' ~ others | join(', ') ~ ')' if others else '') ~ reset_note,
               'labels': changes.labels, 'dependents': [], 'held': held}) }}
  {%- endif -%}
  {{ return({'action': 'alter', 'statements': statements,
             'outcome': 'altered (' ~ changes.labels | join(', ') ~ ')' ~ reset_note, 'labels': changes.labels,
             'dependents': [], 'held': held}) }}
{% endmacro %}
