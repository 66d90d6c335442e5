{#
  pgtrickle_get_stream_table_plan(desired, actual, full_refresh=false)
  Decide what a run does to one stream table and return the SQL for it, without executing
  anything (the materialization runs it; the pgtrickle_plan operation only prints it).
  Args: desired - pgtrickle_stream_table_config(...) plus `query`; actual -
    pgtrickle_get_stream_table_info(...) or none; full_refresh - dbt's --full-refresh.
  Returns: dict(
    action: 'create' | 'recreate' | 'replace' | 'alter' | 'full_refresh' | 'none' | 'skip' | 'fail'
      ('skip' / 'fail': changes found but on_configuration_change is continue / fail),
    statements: SQL texts to run in one committed transaction (empty unless something changes),
    outcome: what the run result reports, e.g. 'altered (schedule, status)',
    labels: what differs, dependents: stream tables a recreate drops with cascade (and
    creates again in the same transaction: pgtrickle_get_recreate_dependents_plan),
    recreated: those among them that are dbt models ({'relation', 'node'}; may be absent),
    held: pgtrickle_held_reason(actual) when that status outlives the run, else none,
    query_class / query_class_reason: how pg_trickle classifies a query change, where it can
      (pgtrickle_explain_query_change; absent otherwise): 'rejected' fails before any change).
  Lifecycle:
    absent -> create (+ alter for what create cannot set: status, fuse);
    --full-refresh -> rebuilt in place (pgtrickle_get_full_refresh_plan);
    query changed -> one alter with the query and whatever else differs, in place (same pgt_id),
      when pg_trickle can (see pgtrickle_has_create_or_replace) and fills the right columns
      afterwards (pgtrickle_query_fits_in_place), else drop + create, the dependents dropped
      with cascade created again after it; an AUTO model on a DIFFERENTIAL table goes FULL
      when pg_trickle refuses the query for DIFFERENTIAL (pgtrickle_get_auto_fallback_sql);
    other differences -> one alter with only what differs; else nothing.
  Status: a SUSPENDED table stays SUSPENDED through alters and replaces that would rebuild it
  (status => 'SUSPENDED' goes along, processed last by pg_trickle) unless the model asks for
  ACTIVE and pg_trickle did not suspend it. pg_trickle takes an ERROR table that gets an alter
  out of ERROR itself (pg_trickle src/api/alter.rs, alter_stream_table_impl); the model's
  status then applies (a second alter when it is SUSPENDED) and the outcome says so.
#}
{% macro pgtrickle_get_stream_table_plan(desired, actual, full_refresh=false) %}
  {%- set relation = desired.relation -%}
  {%- do dbt_pg_trickle.pgtrickle_check_orchestration_mode(desired) -%}
  {%- set create_statements = dbt_pg_trickle.pgtrickle_get_create_statements(desired) -%}

  {%- if actual is none -%}
    {{ return({'action': 'create', 'statements': create_statements, 'outcome': 'created', 'labels': [], 'dependents': [], 'held': none}) }}
  {%- endif -%}

  {#- has_dependents is none when the description came through the read functions, which tell
      no table's readers without walking them all: cascade then, as a drop that finds none
      drops only this table, and a recreate creates again whatever it took along -#}
  {%- set drop_sql = dbt_pg_trickle.pgtrickle_get_drop_stream_table_sql(relation, cascade=(actual.has_dependents is not sameas false)) -%}
  {%- if full_refresh -%}
    {{ return(dbt_pg_trickle.pgtrickle_get_full_refresh_plan(desired, actual, [drop_sql] + create_statements)) }}
  {%- endif -%}

  {%- set changes = dbt_pg_trickle.pgtrickle_stream_table_changes(desired, actual) -%}
  {%- if changes.labels | length == 0 -%}
    {{ return({'action': 'none', 'statements': [], 'outcome': 'unchanged', 'labels': [], 'dependents': [], 'held': changes.held}) }}
  {%- endif -%}
  {#- Where pg_trickle can say how it would take a new query (explain_alter, 0.91.0+), the
      plan asks before deciding anything: its class goes into every outcome, and a query it
      would reject fails the run before any change. -#}
  {%- set explained = dbt_pg_trickle.pgtrickle_explain_query_change(relation, desired.query) if changes.query_changed else none -%}
  {%- set query_class = explained.classification if explained else none -%}
  {%- set class_note = ('; query change: ' ~ query_class ~ (' (' ~ explained.reason ~ ')' if query_class != 'compatible' else '')) if query_class else '' -%}
  {%- if desired.on_configuration_change != 'apply' -%}
    {%- set action = 'skip' if desired.on_configuration_change == 'continue' else 'fail' -%}
    {{ return({'action': action, 'statements': [],
               'outcome': 'unchanged (on_configuration_change=' ~ desired.on_configuration_change ~ '; not applied: ' ~ changes.labels | join(', ') ~ class_note ~ ')',
               'labels': changes.labels, 'dependents': [], 'held': changes.held, 'query_class': query_class,
               'query_class_reason': explained.reason if explained else none}) }}
  {%- endif -%}
  {%- if query_class == 'rejected' -%}
    {{ return({'action': 'fail', 'statements': [],
               'outcome': 'unchanged (pg_trickle rejects the new query: ' ~ explained.reason ~ ')',
               'labels': changes.labels, 'dependents': [], 'held': changes.held, 'query_class': query_class,
               'query_class_reason': explained.reason}) }}
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
    {%- set dependents = dbt_pg_trickle.pgtrickle_get_recreate_dependents_plan(actual) -%}
    {{ return({'action': 'recreate', 'statements': [drop_sql] + create_statements + dependents.statements,
               'outcome': 'recreated (query changed; this pg_trickle cannot replace a query in place)',
               'labels': changes.labels, 'dependents': dependents.names, 'recreated': dependents.recreated, 'held': none}) }}
  {%- endif -%}
  {#- pg_trickle 0.67.0 would migrate the storage and then fill it by position, with values in
      the wrong columns, when the new query adds a column behind its helper columns, renames,
      reorders or retypes one (pgtrickle_query_fits_in_place): drop + create instead -#}
  {%- if changes.query_changed and not dbt_pg_trickle.pgtrickle_query_fits_in_place(actual, desired.query) -%}
    {%- set dependents = dbt_pg_trickle.pgtrickle_get_recreate_dependents_plan(actual) -%}
    {{ return({'action': 'recreate', 'statements': [drop_sql] + create_statements + dependents.statements,
               'outcome': 'recreated (query changed; its columns cannot be migrated in place)',
               'labels': changes.labels, 'dependents': dependents.names, 'recreated': dependents.recreated, 'held': none}) }}
  {%- endif -%}

  {#- One alter carries everything that differs, the query included: pg_trickle migrates the
      query first (in place: same pgt_id, dependents and grants survive), then applies the
      settings. Not create_or_replace_stream_table: it compares a TopK query without its
      ORDER BY / LIMIT / OFFSET and ignores topk_*, so such a change would be dropped
      (pg_trickle src/api/create.rs); it delegates to this same alter anyway. -#}
  {#- Pausing an ACTIVE table goes through pause_stream_table where it exists (0.79.0+, src/api/
      alter.rs): it marks the table for reinitialization, which is how the health rules tell a
      pause from a failure; it runs after the other settings, as the hook does. -#}
  {%- set pause = send.get('status') == 'SUSPENDED' and actual.status == 'ACTIVE' and dbt_pg_trickle.pgtrickle_features().pause_stream_table -%}
  {%- if pause -%}{%- do send.pop('status') -%}{%- endif -%}
  {%- set statements = [dbt_pg_trickle.pgtrickle_get_alter_stream_table_sql(relation, send, query=(desired.query if changes.query_changed else none))] if (send or changes.query_changed) else [] -%}
  {%- if changes.query_changed and desired.refresh_mode == 'AUTO' and actual.refresh_mode == 'DIFFERENTIAL' and 'refresh_mode' not in send -%}
    {#- a new query only FULL can maintain: FULL, as AUTO picks at create (pgtrickle_get_auto_fallback_sql) -#}
    {%- set statements = [dbt_pg_trickle.pgtrickle_get_auto_fallback_sql(relation, statements[0])] -%}
  {%- endif -%}
  {#- pg_trickle repopulates a table whose query, refresh mode or partition key changes from
      defining_query, for a TopK table the query without its ORDER BY / LIMIT: every row lands
      until the next refresh, a TopK MERGE, trims it (pg_trickle src/api/alter.rs, through
      execute_manual_full_refresh). That refresh goes right after the alter, while the table is
      ACTIVE (pg_trickle refuses to refresh a SUSPENDED one; it stays untrimmed until resumed) -#}
  {%- set repopulated = changes.query_changed or 'refresh_mode' in send or 'partition_by' in send -%}
  {%- set active_after = send.get('status', 'ACTIVE' if changes.query_changed or actual.status == 'ERROR' else actual.status) != 'SUSPENDED' -%}
  {%- if repopulated and active_after and dbt_pg_trickle.pgtrickle_is_topk_query(desired.query) -%}
    {%- do statements.append(dbt_pg_trickle.pgtrickle_get_refresh_stream_table_sql(relation)) -%}
  {%- endif -%}
  {%- if status_after -%}
    {%- do statements.append(dbt_pg_trickle.pgtrickle_get_alter_stream_table_sql(relation, {'status': status_after})) -%}
  {%- endif -%}
  {%- if changes.orchestration_mode is not none -%}
    {#- going back to MANAGED first (the alter may ask for IMMEDIATE, which EXTERNAL refuses);
        going to EXTERNAL last; an alter with nothing to send is left out -#}
    {%- set mode_sql = dbt_pg_trickle.pgtrickle_get_set_orchestration_mode_sql(relation, changes.orchestration_mode) -%}
    {%- if not send and not changes.query_changed and not status_after -%}
      {%- set statements = [mode_sql] -%}
    {%- elif changes.orchestration_mode == 'MANAGED' -%}
      {%- set statements = [mode_sql] + statements -%}
    {%- else -%}
      {%- do statements.append(mode_sql) -%}
    {%- endif -%}
  {%- endif -%}
  {%- if pause -%}
    {%- do statements.append(dbt_pg_trickle.pgtrickle_get_call_sql('pause_stream_table', relation)) -%}
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
