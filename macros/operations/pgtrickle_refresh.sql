{#
  pgtrickle_refresh(model_name, schema=none)
  run-operation: refresh one stream table now, synchronously, and commit.
  `dbt run-operation pgtrickle_refresh --args '{model_name: order_totals}'`
  model_name: a stream-table model of this project; otherwise, as in the upstream dbt-pgtrickle
  package, a stream table name: `schema.name`, or `name` in `schema` (default: the target schema).
  Fails with a clear message when there is no such stream table, or it is SUSPENDED / in ERROR
  (pg_trickle refuses those: resume first).
#}
{% macro pgtrickle_refresh(model_name, schema=none) %}
  {% if execute %}
    {%- set models = dbt_pg_trickle.pgtrickle_managed_stream_tables() | selectattr('model_name', 'equalto', model_name) | list if schema is none else [] -%}
    {%- if models -%}
      {%- set found = dbt_pg_trickle.pgtrickle_existing_stream_table(model_name) -%}
      {%- set relation, before, label = found.st.relation, found.info, model_name ~ ' (' ~ found.st.qualified_name ~ ')' -%}
    {%- else -%}
      {%- do dbt_pg_trickle.pgtrickle_require_extension() -%}
      {%- set relation = dbt_pg_trickle.pgtrickle_relation_from_name(model_name, schema) -%}
      {%- set before = dbt_pg_trickle.pgtrickle_get_stream_table_info(relation) -%}
      {%- set label = dbt_pg_trickle.pgtrickle_qualified_name(relation) -%}
      {%- if before is none -%}
        {{ exceptions.raise_compiler_error("pg_trickle: no stream table `" ~ label ~ "` and no model `" ~ model_name ~ "` with materialized='stream_table' in this project; pass a model name, `schema.name`, or `{model_name: name, schema: schema}`.") }}
      {%- endif -%}
    {%- endif -%}
    {%- if dbt_pg_trickle.pgtrickle_stream_table_status(before) in ['suspended', 'error'] -%}
      {{ exceptions.raise_compiler_error("pg_trickle: stream table `" ~ before.qualified_name ~ "` is " ~ before.status ~ " and cannot be refreshed; resume it with `dbt run-operation pgtrickle_resume --args '{model_name: " ~ model_name ~ "}'` (or, if the model paused it, set status 'ACTIVE' in the model and `dbt run`), then refresh.") }}
    {%- endif -%}
    {%- do dbt_pg_trickle.pgtrickle_refresh_stream_table(relation) -%}
    {%- do dbt_pg_trickle.pgtrickle_log_refresh_result(label, before, dbt_pg_trickle.pgtrickle_get_stream_table_info(relation)) -%}
  {% endif %}
{% endmacro %}
