{#
  pgtrickle_drop_stream_table(relation, cascade=false)
  relation: a relation, or a name as the upstream package takes it ('schema.name' or 'name').
  Drop a stream table in a committed transaction of its own; a no-op (logged) when the catalog
  does not have it, because pgtrickle.drop_stream_table is not idempotent.
#}
{% macro pgtrickle_drop_stream_table(relation, cascade=false) %}
  {%- set relation = dbt_pg_trickle.pgtrickle_relation_from_name(relation) -%}
  {% if dbt_pg_trickle.pgtrickle_stream_table_exists(relation) %}
    {% do dbt_pg_trickle.pgtrickle_run_committed('pgtrickle_drop_stream_table', [dbt_pg_trickle.pgtrickle_get_drop_stream_table_sql(relation, cascade=cascade)], lifecycle=true) %}
  {% else %}
    {% do log("pg_trickle: " ~ dbt_pg_trickle.pgtrickle_qualified_name(relation) ~ ": no such stream table, nothing to drop", info=true) %}
  {% endif %}
{% endmacro %}
