{#
  drop_all_stream_tables_force()
  Upstream dbt-pgtrickle name and meaning. run-operation: drop EVERY stream table in the
  database's pg_trickle catalog, whether this project manages it or not, dependents first, in
  one committed transaction (all or nothing).
  Not an alias of pgtrickle_drop_all_stream_tables_force, which drops only this project's
  stream tables plus the outside ones that read them: upstream's name keeps upstream's meaning.
#}
{% macro drop_all_stream_tables_force() %}
  {% if execute %}
    {%- do dbt_pg_trickle.pgtrickle_require_extension() -%}
    {#- ordered by dependency depth, so reversed it drops readers before what they read -#}
    {%- set infos = dbt_pg_trickle.pgtrickle_get_stream_tables_info() -%}
    {%- set names = infos.keys() | list | reverse | list -%}
    {%- set statements = [] -%}
    {%- for name in names -%}
      {%- do statements.append(dbt_pg_trickle.pgtrickle_get_drop_stream_table_sql(dbt_pg_trickle.pgtrickle_relation_from_name(name))) -%}
    {%- endfor -%}
    {%- do dbt_pg_trickle.pgtrickle_run_committed('drop_all_stream_tables_force', statements, lifecycle=true) -%}
    {%- set managed = dbt_pg_trickle.pgtrickle_managed_stream_tables() | map(attribute='qualified_name') | list -%}
    {%- for name in names -%}
      {%- do log("pg_trickle: dropped " ~ name ~ ("" if name in managed else " (not managed by this project)"), info=true) -%}
    {%- endfor -%}
    {%- do log("pg_trickle: drop_all_stream_tables_force: " ~ names | length ~ " dropped", info=true) -%}
  {% endif %}
{% endmacro %}
