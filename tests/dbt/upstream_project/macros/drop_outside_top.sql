{#
  drop_outside_top()
  Drops one stream table through the package's adapter macro with upstream's argument (a name),
  then a name that does not exist (logged, not an error): `dbt run-operation drop_outside_top`.
#}
{% macro drop_outside_top() %}
  {% if execute %}
    {% do dbt_pg_trickle.pgtrickle_drop_stream_table('public.outside_top') %}
    {% do dbt_pg_trickle.pgtrickle_drop_stream_table('public.never_created') %}
  {% endif %}
{% endmacro %}
