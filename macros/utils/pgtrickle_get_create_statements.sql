{#
  pgtrickle_get_create_statements(desired)
  The statements that create a stream table as `desired` describes it: its schema (if
  missing), create_stream_table with every create argument, and one alter for what create
  cannot set (status, fuse settings). orchestration_mode is sent only when EXTERNAL (left out,
  pg_trickle 0.93.0+ stores MANAGED; older versions have no such argument). A target_freshness goes instead of the schedule (pg_trickle takes one of them).
  Args: desired - pgtrickle_stream_table_config(...) plus `query` (or the same shape built
    from a catalog row, pgtrickle_get_recreate_dependents_plan).
  Returns: list of SQL texts.
#}
{% macro pgtrickle_get_create_statements(desired) %}
  {%- set relation = desired.relation -%}
  {%- set immediate = desired.refresh_mode == 'IMMEDIATE' -%}
  {#- the last four are create-time only (upstream dbt-pgtrickle keys), left out at their defaults -#}
  {%- set create_args = {
      'schedule': none if immediate or desired.get('target_freshness') else (desired.schedule or 'calculated'),
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
      'orchestration_mode': 'EXTERNAL' if desired.get('orchestration_mode') == 'EXTERNAL' else none,
      'target_freshness': desired.get('target_freshness'),
  } -%}
  {#- create cannot set status or fuse settings: an alter in the same transaction does -#}
  {%- set after_create = {} -%}
  {%- if desired.status == 'SUSPENDED' -%}{%- do after_create.update({'status': 'SUSPENDED'}) -%}{%- endif -%}
  {%- if desired.fuse != 'off' -%}{%- do after_create.update({'fuse': desired.fuse}) -%}{%- endif -%}
  {%- for key in ['fuse_ceiling', 'fuse_sensitivity'] if desired[key] is not none -%}
    {%- do after_create.update({key: desired[key]}) -%}
  {%- endfor -%}
  {%- set statements = [
      'create schema if not exists ' ~ relation.without_identifier().include(database=false),
      dbt_pg_trickle.pgtrickle_get_create_stream_table_sql(relation, desired.query, create_args)] -%}
  {%- if after_create -%}
    {%- do statements.append(dbt_pg_trickle.pgtrickle_get_alter_stream_table_sql(relation, after_create)) -%}
  {%- endif -%}

  {{ return(statements) }}
{% endmacro %}
