{#
  pgtrickle_managed_stream_tables()
  The stream tables this dbt project manages: every enabled model with
  materialized='stream_table', with its config validated (name/schema overrides and custom
  schemas applied).
  Returns: list of dicts (unique_id, model_name, qualified_name, relation, node, desired).
#}
{% macro pgtrickle_managed_stream_tables() %}
  {%- set found = [] -%}
  {%- for node in graph.nodes.values()
        if node.resource_type == 'model' and node.config.materialized == 'stream_table' -%}
    {%- set desired = dbt_pg_trickle.pgtrickle_stream_table_config(node) -%}
    {%- do found.append({'unique_id': node.unique_id, 'model_name': node.name,
                         'qualified_name': desired.qualified_name, 'relation': desired.relation,
                         'node': node, 'desired': desired}) -%}
  {%- endfor -%}
  {{ return(found) }}
{% endmacro %}
