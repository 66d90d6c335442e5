{#
  pgtrickle_drop_all_stream_tables(force=false)
  run-operation: drop every stream table this project manages, dependents first, in one
  committed transaction (all or nothing). Stream tables outside the project that read a managed
  one make it refuse, naming them, unless force=true, which drops those too (cascade).
  Not-yet-created models are ignored, since drop_stream_table fails for unknown names.
#}
{% macro pgtrickle_drop_all_stream_tables(force=false) %}
  {% if execute %}
    {%- do dbt_pg_trickle.pgtrickle_require_extension() -%}
    {%- set managed = dbt_pg_trickle.pgtrickle_managed_stream_tables() -%}
    {%- set managed_names = managed | map(attribute='qualified_name') | list -%}
    {%- set infos = dbt_pg_trickle.pgtrickle_get_stream_tables_info(managed | map(attribute='relation') | list) -%}
    {%- set outsiders = [] -%}
    {%- for info in infos.values() -%}
      {%- for dep in info.dependents if dep not in managed_names and dep not in outsiders -%}
        {%- do outsiders.append(dep) -%}
      {%- endfor -%}
    {%- endfor -%}
    {%- if outsiders and not force -%}
      {{ exceptions.raise_compiler_error("pg_trickle: stream tables outside this dbt project read managed ones: " ~ outsiders | join(', ') ~ "; nothing was dropped. Drop them first, or run `dbt run-operation pgtrickle_drop_all_stream_tables_force` to drop them too.") }}
    {%- endif -%}
    {%- set statements = [] -%}
    {%- for name in infos.keys() | list | reverse -%}
      {%- set st = (managed | selectattr('qualified_name', 'equalto', name) | list)[0] -%}
      {%- do statements.append(dbt_pg_trickle.pgtrickle_get_drop_stream_table_sql(st.relation, cascade=force)) -%}
    {%- endfor -%}
    {%- do dbt_pg_trickle.pgtrickle_run_committed('pgtrickle_drop_all_stream_tables', statements, lifecycle=true) -%}
    {%- for name in infos.keys() | list | reverse -%}
      {%- do log("pg_trickle: dropped " ~ name, info=true) -%}
    {%- endfor -%}
    {%- if outsiders -%}
      {%- do log("pg_trickle: also dropped (cascade, not managed by dbt): " ~ outsiders | join(', '), info=true) -%}
    {%- endif -%}
    {%- do log("pg_trickle: drop_all_stream_tables: " ~ infos | length ~ " dropped", info=true) -%}
  {% endif %}
{% endmacro %}
