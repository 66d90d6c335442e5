{#
  pgtrickle_check_table_configs(node)
  Check the dbt `table` configs a stream_table model may set, before anything touches the
  database (docs/dbt/materialization.md has the table of every one):
  - `unlogged: true` is refused: pg_trickle creates the storage table itself, logged, and
    creates it again when a change rebuilds it (pg_trickle src/api/mod.rs,
    setup_storage_table), so dbt cannot make it unlogged and keep it so.
  - `sql_header` is refused: pg_trickle runs the query later in its own sessions (the
    scheduler's refreshes), where a header dbt sends before the create would not apply.
  - `indexes` is checked (pgtrickle_check_indexes).
  - with `contract: {enforced: true}`, every constraint (model-level or on a column) is
    refused (pgtrickle_check_constraints).
  Returns: {'indexes': the checked indexes (pgtrickle_check_indexes)}.
#}
{% macro pgtrickle_check_table_configs(node) %}
  {%- set cfg = node.config -%}
  {%- if cfg.get('unlogged') not in [none, false] -%}
    {%- do dbt_pg_trickle.pgtrickle_config_error(node.name, 'unlogged', cfg.get('unlogged'),
        "false or unset (pg_trickle creates, and on rebuilds recreates, the stream table's storage as a logged table)") -%}
  {%- endif -%}
  {%- if cfg.get('sql_header') not in [none, ''] -%}
    {%- do dbt_pg_trickle.pgtrickle_config_error(node.name, 'sql_header', cfg.get('sql_header'),
        "unset (pg_trickle runs the query in its own sessions, where a header sent by dbt does not apply; put settings on the role or database, or into the query)") -%}
  {%- endif -%}
  {%- set indexes = dbt_pg_trickle.pgtrickle_check_indexes(node.name, cfg.get('indexes')) -%}
  {%- set contract = cfg.get('contract') -%}
  {%- if contract and contract.enforced -%}
    {%- do dbt_pg_trickle.pgtrickle_check_constraints(node) -%}
  {%- endif -%}
  {{ return({'indexes': indexes}) }}
{% endmacro %}
