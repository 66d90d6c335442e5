{#
  pgtrickle_explain_query_change(relation, query)
  How pg_trickle would take the relation's defining query being replaced by `query`, changing
  nothing (pgtrickle.explain_alter, pg_trickle 0.91.0+; src/api/alter.rs): `compatible` (the
  same query: all state reusable), `rebuildable` (a rebuild in shadow storage) or `rejected`
  (the table cannot take it).
  Returns: dict(classification, reason), or none where the server has no explain_alter
  (pg_trickle 0.67.0: the plan then decides as before).
#}
{% macro pgtrickle_explain_query_change(relation, query) -%}
  {%- if not execute or not dbt_pg_trickle.pgtrickle_features().explain_alter -%}
    {{ return(none) }}
  {%- endif -%}
  {%- set result = run_query(
      "select e ->> 'classification', e ->> 'reason' from (select pgtrickle.explain_alter(name => "
      ~ dbt_pg_trickle.pgtrickle_sql_value(dbt_pg_trickle.pgtrickle_qualified_name(relation))
      ~ ", new_query => " ~ dbt_pg_trickle.pgtrickle_dollar_quote(query) ~ ") as e) as explained") -%}
  {%- set row = result.rows[0] -%}
  {{ return({'classification': row[0], 'reason': row[1]}) }}
{%- endmacro %}
