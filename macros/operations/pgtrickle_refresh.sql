{#
  pgtrickle_refresh(model_name)
  run-operation: refresh one stream-table model now, synchronously, and commit.
  `dbt run-operation pgtrickle_refresh --args '{model_name: order_totals}'`
  Fails with a clear message when the model is unknown, its stream table does not exist yet, or
  it is SUSPENDED / in ERROR (pg_trickle refuses those: resume first).
#}
{% macro pgtrickle_refresh(model_name) %}
  {% if execute %}
    {%- set found = dbt_pg_trickle.pgtrickle_existing_stream_table(model_name) -%}
    {%- set st, before = found.st, found.info -%}
    {%- if dbt_pg_trickle.pgtrickle_stream_table_status(before) in ['suspended', 'error'] -%}
      {{ exceptions.raise_compiler_error("pg-trickle: stream table `" ~ st.qualified_name ~ "` is " ~ before.status ~ " and cannot be refreshed; resume it with `dbt run-operation pgtrickle_resume --args '{model_name: " ~ model_name ~ "}'` (or, if the model paused it, set status 'ACTIVE' in the model and `dbt run`), then refresh.") }}
    {%- endif -%}
    {%- do dbt_pg_trickle.pgtrickle_refresh_stream_table(st.relation) -%}
    {%- do dbt_pg_trickle.pgtrickle_log_refresh_result(model_name ~ ' (' ~ st.qualified_name ~ ')', before, dbt_pg_trickle.pgtrickle_get_stream_table_info(st.relation)) -%}
  {% endif %}
{% endmacro %}
