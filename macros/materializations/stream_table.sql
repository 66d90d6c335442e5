{#
  materialized='stream_table': a pg_trickle stream table maintained by the extension.
  The four lifecycle cases (absent -> create; unchanged -> nothing; config changed -> alter only
  what differs; query changed -> replace in place, or drop + create) and --full-refresh
  (rebuilt in place) are decided by pgtrickle_get_stream_table_plan; `indexes` follow
  (pgtrickle_sync_indexes), an enforced contract is checked before a query is sent
  (pgtrickle_assert_contract), and --empty sends nothing (pgtrickle_skip_empty_run).
  Everything a model changes - inside-transaction pre-hooks, the pg_trickle calls, indexes,
  grants, docs, inside-transaction post-hooks - is one transaction, dbt's own, committed once at the end (why not a separate
  one for the calls: see pgtrickle_run_committed). The run result reports the outcome; an
  unchanged stream table costs one catalog read (plus one feature probe per dbt thread and
  invocation) and no write.
#}
{% materialization stream_table, adapter='postgres' %}
  {%- set desired = dbt_pg_trickle.pgtrickle_stream_table_config(model) -%}
  {%- do desired.update({'query': dbt_pg_trickle.pgtrickle_strip_query_end(sql)}) -%}
  {%- set target_relation = desired.relation -%}
  {%- do dbt_pg_trickle.pgtrickle_require_extension() -%}
  {%- set actual = dbt_pg_trickle.pgtrickle_get_stream_table_info(target_relation) -%}
  {%- if dbt_pg_trickle.pgtrickle_is_empty_run() -%}
    {{ return(dbt_pg_trickle.pgtrickle_skip_empty_run(target_relation, actual)) }}
  {%- endif -%}
  {%- set plan = dbt_pg_trickle.pgtrickle_get_stream_table_plan(desired, actual, should_full_refresh()) -%}
  {%- if plan.action == 'fail' and plan.get('query_class') == 'rejected' and desired.on_configuration_change == 'apply' -%}
    {{ exceptions.raise_fail_fast_error("pg_trickle: model `" ~ model.name ~ "`: pg_trickle classifies the new query as `rejected` (" ~ plan.query_class_reason ~ "); nothing was changed. Fix the query (pgtrickle.explain_alter says why), or run with --full-refresh to drop and create the stream table.") }}
  {%- elif plan.action == 'fail' -%}
    {{ exceptions.raise_fail_fast_error("pg_trickle: model `" ~ model.name ~ "`: " ~ plan.labels | join(', ') ~ " changed"
        ~ (" (query change classified `" ~ plan.query_class ~ "` by pg_trickle)" if plan.get('query_class') else "")
        ~ " but on_configuration_change is `fail`; set it to `apply` or run with --full-refresh.") }}
  {%- endif -%}
  {%- if plan.action in ['create', 'recreate', 'replace'] or (plan.action == 'full_refresh' and 'query' in plan.labels) -%}
    {%- if config.get('contract') and config.get('contract').enforced -%}
      {%- do dbt_pg_trickle.pgtrickle_assert_contract(desired.query) -%}
    {%- endif -%}
  {%- endif -%}
  {%- set index_check = dbt_pg_trickle.pgtrickle_get_index_plan(target_relation, desired.indexes, actual.index_names if actual else []) -%}
  {%- if plan.action in ['none', 'skip'] and index_check.statements and desired.on_configuration_change == 'fail' -%}
    {{ exceptions.raise_fail_fast_error("pg_trickle: model `" ~ model.name ~ "`: indexes changed but on_configuration_change is `fail`; set it to `apply` or run with --full-refresh.") }}
  {%- endif -%}

  {{ run_hooks(pre_hooks, inside_transaction=False) }}
  {{ run_hooks(pre_hooks, inside_transaction=True) }}

  {%- set statements = plan.statements -%}
  {%- set other_relation = load_cached_relation(target_relation) if actual is none else none -%}
  {%- if other_relation is not none -%}
    {#- switching from table/view to stream_table, as dbt's own materializations do -#}
    {%- set statements = [get_drop_sql(other_relation)] + statements -%}
  {%- endif -%}
  {% do dbt_pg_trickle.pgtrickle_run_committed('pgtrickle_' ~ plan.action, statements, lifecycle=true) %}
  {%- set outcome = dbt_pg_trickle.pgtrickle_sync_indexes(desired, plan, index_check) -%}

  {%- do log("pg_trickle: " ~ model.name ~ ": " ~ outcome, info=true) -%}
  {%- if plan.action == 'skip' -%}
    {%- do exceptions.warn("pg_trickle: model `" ~ model.name ~ "`: " ~ plan.labels | join(', ') ~ " changed but on_configuration_change is `continue`; nothing was applied.") -%}
  {%- endif -%}
  {%- if plan.dependents -%}
    {%- do dbt_pg_trickle.pgtrickle_report_dropped_dependents(model.name, plan.dependents) -%}
  {%- endif -%}
  {%- if plan.held -%}
    {%- do exceptions.warn("pg_trickle: model `" ~ model.name ~ "`: stream table `" ~ actual.qualified_name ~ "` is " ~ plan.held ~ "; pg_trickle set that status, so dbt leaves it. Fix the cause, then `dbt run-operation pgtrickle_resume --args '{model_name: " ~ model.name ~ "}'` or run with --full-refresh.") -%}
  {%- endif -%}
  {%- if actual and actual.needs_recreation and plan.action != 'recreate' -%}
    {%- do exceptions.warn("pg_trickle: model `" ~ model.name ~ "`: stream table `" ~ actual.qualified_name ~ "` was created before pg_trickle 0.87.16's row identity, so this pg_trickle will not refresh it; create it again with `dbt run --full-refresh -s " ~ model.name ~ "` (docs/upgrading.md).") -%}
  {%- endif -%}
  {%- do store_raw_result(name='main', message=outcome, code=plan.action, rows_affected=-1) -%}

  {%- do dbt_pg_trickle.pgtrickle_apply_grants(target_relation, config.get('grants'), plan.action in ['create', 'recreate'], actual.has_grants if actual else false) -%}
  {%- for dependent in plan.get('recreated', []) -%}
    {%- do dbt_pg_trickle.pgtrickle_apply_grants(dependent.relation, dependent.node.config.get('grants'), true, false) -%}
  {%- endfor -%}
  {%- do persist_docs(target_relation, model) -%}

  {{ run_hooks(post_hooks, inside_transaction=True) }}
  {{ adapter.commit() }}
  {{ run_hooks(post_hooks, inside_transaction=False) }}

  {{ return({'relations': [target_relation]}) }}
{% endmaterialization %}
