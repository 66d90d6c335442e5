{#
  pgtrickle_refresh_all_stream_tables(schema=none)
  run-operation: refresh every stream table this project manages (custom schemas and name
  overrides included), upstream before downstream, each in its own committed transaction.
  schema: only the managed stream tables in this schema (the upstream package's argument).
  SUSPENDED / ERROR tables and ones not created yet are skipped with a warning. pg_trickle has
  no server-side "refresh all" (docs/pg_trickle-contract.md), so the order comes from its
  dependency graph (pgt_dependencies, or list_sources() for a role that cannot read the catalog).
#}
{% macro pgtrickle_refresh_all_stream_tables(schema=none) %}
  {% if execute %}
    {%- do dbt_pg_trickle.pgtrickle_require_extension() -%}
    {%- set managed = dbt_pg_trickle.pgtrickle_managed_stream_tables() -%}
    {%- if schema is not none -%}
      {%- set managed = managed | selectattr('desired.schema', 'equalto', schema) | list -%}
    {%- endif -%}
    {%- set infos = dbt_pg_trickle.pgtrickle_get_stream_tables_info(managed | map(attribute='relation') | list) -%}
    {%- for st in managed if st.qualified_name not in infos -%}
      {%- do exceptions.warn("pg_trickle: " ~ st.model_name ~ " (" ~ st.qualified_name ~ "): skipped, not created yet; run `dbt run -s " ~ st.model_name ~ "`.") -%}
    {%- endfor -%}
    {%- set counts = {'refreshed': 0, 'skipped': 0} -%}
    {#- infos is ordered by dependency depth, so upstream tables come first -#}
    {%- for name, info in infos.items() -%}
      {%- set st = (managed | selectattr('qualified_name', 'equalto', name) | list)[0] -%}
      {%- set label = st.model_name ~ ' (' ~ name ~ ')' -%}
      {%- if dbt_pg_trickle.pgtrickle_stream_table_status(info) in ['suspended', 'error'] -%}
        {%- do exceptions.warn("pg_trickle: " ~ label ~ ": skipped, status " ~ info.status ~ (" (" ~ info.last_error_message ~ ")" if info.last_error_message else "") ~ "; resume it with `dbt run-operation pgtrickle_resume --args '{model_name: " ~ st.model_name ~ "}'`.") -%}
        {%- do counts.update({'skipped': counts.skipped + 1}) -%}
      {%- else -%}
        {%- do dbt_pg_trickle.pgtrickle_refresh_stream_table(st.relation) -%}
        {%- set outcome = dbt_pg_trickle.pgtrickle_log_refresh_result(label, info, dbt_pg_trickle.pgtrickle_get_stream_table_info(st.relation)) -%}
        {%- do counts.update({outcome: counts[outcome] + 1}) -%}
      {%- endif -%}
    {%- endfor -%}
    {%- do log("pg_trickle: refresh_all_stream_tables: " ~ counts.refreshed ~ " refreshed, " ~ counts.skipped ~ " skipped, " ~ (managed | length - infos | length) ~ " not created", info=true) -%}
  {% endif %}
{% endmacro %}
