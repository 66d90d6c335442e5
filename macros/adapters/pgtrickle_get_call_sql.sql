{#
  pgtrickle_get_call_sql(function, relation, args, query=none)
  `select pgtrickle.<function>(name => '<schema.name>'[, query => $tag$...$tag$][, key => value ...])`
  in named notation, which works whatever argument positions a pg_trickle version has.
  Args: function (a fixed pgtrickle function name), relation, args (dict of argument name to
  value; none values are left out so pg_trickle applies its default), query (dollar-quoted).
  Returns: SQL text.
#}
{% macro pgtrickle_get_call_sql(function, relation, args={}, query=none) -%}
select pgtrickle.{{ function }}(name => {{ dbt_pg_trickle.pgtrickle_sql_value(dbt_pg_trickle.pgtrickle_qualified_name(relation)) }}
  {%- if query is not none %}, query => {{ dbt_pg_trickle.pgtrickle_dollar_quote(query) }}{% endif -%}
  {%- for key, value in args.items() if value is not none %}, {{ key }} => {{ dbt_pg_trickle.pgtrickle_sql_value(value) }}{% endfor -%}
)
{%- endmacro %}
