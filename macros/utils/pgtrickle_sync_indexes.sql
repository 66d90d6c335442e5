{#
  pgtrickle_sync_indexes(desired, plan, before)
  After the plan's statements ran (in the model's transaction): make the stream table's
  dbt-managed indexes match its `indexes` config (pgtrickle_get_index_plan), and return the
  run result's outcome with what that did appended. When the plan sent nothing the table is
  as pgtrickle_get_stream_table_info read it (`before`, computed from that read: no second
  read); after anything that may have rebuilt the storage (a create, a query or partition
  change, a full refresh) the indexes are read again, so an index lost with old storage is
  created again. Index changes follow on_configuration_change like other config changes:
  `continue` warns and applies nothing (`fail` stopped the run before anything was sent).
  Args: desired - pgtrickle_stream_table_config(...); plan - pgtrickle_get_stream_table_plan(...);
    before - pgtrickle_get_index_plan(...) against the indexes before the run.
  Returns: text.
#}
{% macro pgtrickle_sync_indexes(desired, plan, before) %}
  {%- set relation = desired.relation -%}
  {%- if plan.action in ['none', 'skip'] -%}
    {%- set todo = before -%}
    {%- if todo.statements and (plan.action == 'skip' or desired.on_configuration_change != 'apply') -%}
      {%- do exceptions.warn("pg_trickle: model `" ~ desired.model_name ~ "`: indexes changed but on_configuration_change is `" ~ desired.on_configuration_change ~ "`; they were not applied.") -%}
      {{ return(plan.outcome) }}
    {%- endif -%}
  {%- elif plan.action == 'create' -%}
    {%- set todo = dbt_pg_trickle.pgtrickle_get_index_plan(relation, desired.indexes, []) -%}
  {%- else -%}
    {%- set todo = dbt_pg_trickle.pgtrickle_get_index_plan(relation, desired.indexes, dbt_pg_trickle.pgtrickle_get_index_names(relation)) -%}
  {%- endif -%}
  {%- if not todo.statements -%}{{ return(plan.outcome) }}{%- endif -%}
  {%- do dbt_pg_trickle.pgtrickle_run_committed('pgtrickle_indexes', todo.statements) -%}
  {%- set parts = [] -%}
  {%- if todo.created -%}{%- do parts.append('created ' ~ todo.created | join(', ')) -%}{%- endif -%}
  {%- if todo.dropped -%}{%- do parts.append('dropped ' ~ todo.dropped | join(', ')) -%}{%- endif -%}
  {{ return(plan.outcome ~ '; indexes ' ~ parts | join('; ')) }}
{% endmacro %}
