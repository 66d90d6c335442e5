{#
  pgtrickle_get_recreate_dependents_plan(info)
  When a stream table must really be dropped and created again (a query change this
  pg_trickle cannot apply in place), its drop takes every stream table reading it along
  (cascade). This returns the statements that create those again right after it, in the same
  transaction, parents before children (by depth in the dependency graph), each from its
  catalog row as read now: its query as deployed, and
  - for a dbt model of this project: the settings and `indexes` of its own model config
    (its grants are applied by the materialization, from `recreated`);
  - for a stream table dbt does not manage: the settings its catalog row has.
  So a run never leaves a stream table dropped that it did not rebuild; a dependent whose
  query no longer works on the new parent fails the whole transaction, which then changes
  nothing.
  Args: info - pgtrickle_get_stream_table_info(...) of the table being recreated.
  Returns: {'statements': SQL texts, 'names': `schema.name` of every dependent, in creation
    order, 'recreated': [{'relation', 'node'}] of those that are dbt models}.
#}
{% macro pgtrickle_get_recreate_dependents_plan(info) %}
  {%- set names = dbt_pg_trickle.pgtrickle_get_stream_table_dependents(info) -%}
  {%- if not names -%}{{ return({'statements': [], 'names': [], 'recreated': []}) }}{%- endif -%}
  {%- set relations = [] -%}
  {%- for name in names -%}
    {%- do relations.append(dbt_pg_trickle.pgtrickle_relation_from_name(name)) -%}
  {%- endfor -%}
  {%- set found = dbt_pg_trickle.pgtrickle_get_stream_tables_info(relations) -%}
  {%- set managed = dbt_pg_trickle.pgtrickle_managed_stream_tables() -%}
  {%- set statements = [] -%}
  {%- set ordered = [] -%}
  {%- set recreated = [] -%}
  {%- for dep in found.values() | sort(attribute='depth') -%}
    {%- set matches = managed | selectattr('qualified_name', 'equalto', dep.qualified_name) | list -%}
    {%- if matches -%}
      {%- set spec = dict(matches[0].desired) -%}
      {%- do recreated.append({'relation': spec.relation, 'node': matches[0].node}) -%}
    {%- else -%}
      {#- the catalog row has the create arguments under the names create takes -#}
      {%- set spec = dict(dep) -%}
      {%- do spec.update({
          'relation': dbt_pg_trickle.pgtrickle_relation_from_name(dep.qualified_name),
          'refresh_mode': dep.refresh_mode, 'initialize': true,
          'status': 'SUSPENDED' if dep.status == 'SUSPENDED' else 'ACTIVE',
          'max_differential_joins': (dep.max_differential_joins | int) if dep.max_differential_joins is not none else none,
          'max_delta_fraction': (dep.max_delta_fraction | float) if dep.max_delta_fraction is not none else none,
          'fuse_ceiling': (dep.fuse_ceiling | int) if dep.fuse_ceiling is not none else none,
          'fuse_sensitivity': (dep.fuse_sensitivity | int) if dep.fuse_sensitivity is not none else none,
          'pooler_compatibility_mode': dep.pooler_compatibility_mode or none,
          'temporal': dep.temporal or none, 'output_distribution_column': none,
          'storage_backend': dep.storage_backend if dep.storage_backend not in [none, 'heap'] else none,
          'orchestration_mode': dep.get('orchestration_mode') or 'MANAGED',
          'target_freshness': {'MANUAL': 'manual', 'ON_COMMIT': 'on_commit'}.get(dep.get('target_freshness_mode'),
              dep.schedule if dep.get('target_freshness_mode') == 'INTERVAL' else none),
          'indexes': []}) -%}
    {%- endif -%}
    {%- do spec.update({'query': dep.query}) -%}
    {%- do statements.extend(dbt_pg_trickle.pgtrickle_get_create_statements(spec)) -%}
    {%- do statements.extend(dbt_pg_trickle.pgtrickle_get_index_plan(spec.relation, spec.indexes, []).statements) -%}
    {%- do ordered.append(dep.qualified_name) -%}
  {%- endfor -%}
  {{ return({'statements': statements, 'names': ordered, 'recreated': recreated}) }}
{% endmacro %}
