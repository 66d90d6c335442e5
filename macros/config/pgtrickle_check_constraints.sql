{#
  pgtrickle_check_constraints(node)
  Refuse every constraint of a model with an enforced contract (dbt applies constraints only
  then), naming each one. None can hold on a stream table:
  - pg_trickle creates the storage table from the query and creates it again when a change
    rebuilds it (an incompatible query change, a partition_by change; pg_trickle
    src/api/alter.rs), so a constraint dbt added afterwards would silently disappear;
  - the rows are pg_trickle's to write, later, in its own sessions: a check, not_null,
    unique or foreign_key that a refresh violates puts the table into ERROR instead of
    failing the dbt run that declared it, and a primary_key would compete with pg_trickle's
    own row key (__pgt_row_id, already unique).
  The contract's columns and types are still enforced (pgtrickle_assert_contract); a unique
  index, which dbt creates again after every rebuild, is
  `indexes: [{columns: [...], unique: true}]`.
#}
{% macro pgtrickle_check_constraints(node) %}
  {%- set found = [] -%}
  {%- for constraint in node.get('constraints') or [] -%}
    {%- do found.append(constraint.type ~ ((' (' ~ constraint.columns | join(', ') ~ ')') if constraint.get('columns') else '')) -%}
  {%- endfor -%}
  {%- for name, column in (node.get('columns') or {}).items() -%}
    {%- for constraint in column.get('constraints') or [] -%}
      {%- do found.append(constraint.type ~ ' on column ' ~ name) -%}
    {%- endfor -%}
  {%- endfor -%}
  {%- if found -%}
    {%- do dbt_pg_trickle.pgtrickle_config_error(node.name, 'constraints', found,
        "no constraints on a stream table (pg_trickle writes and rebuilds its storage, so a constraint would vanish on a rebuild or fail pg_trickle's refreshes); keep the contract's columns and data types, and use `indexes: [{columns: [...], unique: true}]` for a unique index") -%}
  {%- endif -%}
{% endmacro %}
