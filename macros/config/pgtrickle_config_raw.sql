{#
  pgtrickle_config_raw(node)
  The raw stream table config of a model, as pgtrickle_check_config takes it: every argument
  of the vocabulary (pgtrickle_config_vocabulary) that the model's config sets, unchanged
  (a key set to none stays: `schedule=none` means CALCULATED), plus the stream table's name
  and schema and the config keys they came from (an error names what the user set).
  Args: node - the model node (`model` in the materialization, a `graph.nodes` value elsewhere).
  Returns: dict.
#}
{% macro pgtrickle_config_raw(node) %}
  {%- set cfg = node.config -%}
  {%- set raw = {
      'stream_table_name': cfg.get('stream_table_name') or node.alias or node.name,
      'stream_table_schema': cfg.get('stream_table_schema') or node.schema,
      '_name_key': 'stream_table_name' if cfg.get('stream_table_name') else ('alias' if node.alias and node.alias != node.name else 'name'),
      '_schema_key': 'stream_table_schema' if cfg.get('stream_table_schema') else 'schema',
  } -%}
  {%- for key in dbt_pg_trickle.pgtrickle_config_vocabulary().arguments -%}
    {%- if key in cfg -%}
      {%- do raw.update({key: cfg.get(key)}) -%}
    {%- endif -%}
  {%- endfor -%}
  {{ return(raw) }}
{% endmacro %}
