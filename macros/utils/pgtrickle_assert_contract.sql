{#
  pgtrickle_assert_contract(query)
  For a model with `contract: {enforced: true}`: check the query's result columns against the
  declared ones before anything is sent to pg_trickle. Names, number and data types go
  through dbt's own check (get_assert_columns_equivalent: dbt's contract error and its diff
  table). The order is checked too: a `table` model reorders the columns to the contract's
  order, but pg_trickle stores them in the query's order, so a different order is refused
  with a message naming both.
  Runs the query only as `... where false limit 0` (dbt's get_column_schema_from_query).
#}
{% macro pgtrickle_assert_contract(query) %}
  {%- do get_assert_columns_equivalent(query) -%}
  {%- set returned = get_column_schema_from_query(query) | map(attribute='name') | list -%}
  {%- set declared = model['columns'].keys() | list -%}
  {%- if returned != declared -%}
    {%- do dbt_pg_trickle.pgtrickle_config_error(model.name, 'columns', declared,
        "the columns in the query's order, " ~ returned | tojson ~ " (pg_trickle stores a stream table's columns in the order the query returns them); reorder the query's select list or the contract's columns") -%}
  {%- endif -%}
{% endmacro %}
