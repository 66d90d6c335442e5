{#
  pgtrickle_stream_table_config(node)
  Read, normalise and validate a stream_table model's config. Runs before anything touches the
  database, so a bad value fails the model with a message and changes nothing. The rules are
  the vocabulary's (pgtrickle_config_vocabulary, generated from
  airflow_provider_pgtrickle/vocabulary/config.py), checked by pgtrickle_check_config.
  Args: node - the model node (`model` in the materialization, a `graph.nodes` value elsewhere).
  Returns: the desired stream table, in the shape pgtrickle_get_stream_table_info returns:
    relation, schema, name, qualified_name, schedule (none = CALCULATED), refresh_mode
    (DIFFERENTIAL, FULL, AUTO, IMMEDIATE), status (ACTIVE, SUSPENDED), cdc_mode, partition_by,
    append_only, fuse, fuse_ceiling, fuse_sensitivity, diamond_consistency,
    diamond_schedule_policy, max_differential_joins, max_delta_fraction (both none for "no
    limit"); plus model_name, initialize, on_configuration_change, and the create-time options
    the upstream dbt-pgtrickle package also takes: temporal, pooler_compatibility_mode,
    storage_backend, output_distribution_column (see docs/dbt-upstream-compat.md); and
    indexes (pgtrickle_check_table_configs, which also refuses table configs a stream table
    cannot honour).
    Keys left unset get the vocabulary's defaults; none means not managed by dbt.
#}
{% macro pgtrickle_stream_table_config(node) %}
  {%- set vocab = dbt_pg_trickle.pgtrickle_config_vocabulary() -%}
  {%- set checked = dbt_pg_trickle.pgtrickle_check_config(dbt_pg_trickle.pgtrickle_config_raw(node)) -%}
  {%- if checked.error is not none -%}
    {%- do dbt_pg_trickle.pgtrickle_config_error(node.name, checked.error.key, checked.error.value, checked.error.accepted) -%}
  {%- endif -%}
  {%- for note in checked.notes -%}
    {%- do log("pg_trickle: " ~ node.name ~ ": " ~ note, info=true) -%}
  {%- endfor -%}
  {%- set desired = checked.value -%}
  {%- set table_configs = dbt_pg_trickle.pgtrickle_check_table_configs(node) -%}
  {#- CALCULATED is a NULL schedule in the catalog, and "no limit" a NULL limit -#}
  {%- do desired.update({'schedule': none if desired.schedule == vocab.schedule.calculated else desired.schedule}) -%}
  {%- for key, spec in vocab.arguments.items() if spec.zero_means_no_limit and desired[key] == 0 -%}
    {%- do desired.update({key: none}) -%}
  {%- endfor -%}
  {%- if desired.max_delta_fraction is not none -%}
    {%- do desired.update({'max_delta_fraction': desired.max_delta_fraction | float}) -%}
  {%- endif -%}
  {%- set schema = desired.pop('stream_table_schema') -%}
  {%- set name = desired.pop('stream_table_name') -%}
  {%- do desired.update({
      'model_name': node.name,
      'relation': api.Relation.create(database=node.database, schema=schema, identifier=name, type='table'),
      'schema': schema,
      'name': name,
      'qualified_name': schema ~ '.' ~ name,
      'indexes': table_configs.indexes,
  }) -%}
  {{ return(desired) }}
{% endmacro %}
