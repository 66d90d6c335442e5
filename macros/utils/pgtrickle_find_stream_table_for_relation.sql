{#
  pgtrickle_find_stream_table_for_relation(relation)
  The managed stream table (pgtrickle_managed_stream_tables) whose dbt relation (schema and
  alias, as `ref()` returns it) is `relation`: how tests attached to a model find the stream
  table when stream_table_name / stream_table_schema override dbt's name.
  Returns: the managed entry, or none (always none at parse time, when the graph is empty).
#}
{% macro pgtrickle_find_stream_table_for_relation(relation) %}
  {%- if not execute or relation is string or relation.identifier is not defined -%}{{ return(none) }}{%- endif -%}
  {%- for st in dbt_pg_trickle.pgtrickle_managed_stream_tables()
        if st.node.schema == relation.schema and (st.node.alias or st.node.name) == relation.identifier -%}
    {{ return(st) }}
  {%- endfor -%}
  {{ return(none) }}
{% endmacro %}
