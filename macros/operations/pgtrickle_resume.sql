{#
  pgtrickle_resume(model_name)
  run-operation: set a stream-table model's table ACTIVE again after pg_trickle suspended it or
  put it in ERROR (dbt runs leave such a status alone), and commit. A blown fuse is re-armed
  with pgtrickle.reset_fuse (action 'apply'), also on an ACTIVE table (resume_stream_table
  leaves a blown fuse blown, and the scheduler holds the table); anything else goes through
  pgtrickle.resume_stream_table. Does not refresh: the scheduler, or pgtrickle_refresh, does.
  `dbt run-operation pgtrickle_resume --args '{model_name: order_totals}'`
  Safe to repeat: an ACTIVE table with no blown fuse is left as it is.
#}
{% macro pgtrickle_resume(model_name) %}
  {% if execute %}
    {%- set found = dbt_pg_trickle.pgtrickle_existing_stream_table(model_name) -%}
    {%- set st, info = found.st, found.info -%}
    {%- set label = model_name ~ ' (' ~ st.qualified_name ~ ')' -%}
    {#- the failed statuses and the blown fuse: what the health rules call failed -#}
    {%- set failed = dbt_pg_trickle.pgtrickle_health_vocabulary().failed_statuses -%}
    {%- if info.status not in failed and info.fuse_state != 'blown' -%}
      {%- do log("pg_trickle: " ~ label ~ ": " ~ info.status ~ ", nothing to resume", info=true) -%}
      {{ return(none) }}
    {%- endif -%}
    {%- set function = 'reset_fuse' if info.fuse_state == 'blown' else 'resume_stream_table' -%}
    {%- do dbt_pg_trickle.pgtrickle_run_committed('pgtrickle_resume', [dbt_pg_trickle.pgtrickle_get_call_sql(function, st.relation)]) -%}
    {%- do log("pg_trickle: " ~ label ~ ": resumed (was " ~ info.status ~ ("; fuse re-armed" if function == 'reset_fuse' else "") ~ ")", info=true) -%}
    {%- if st.desired.status == 'SUSPENDED' -%}
      {%- do exceptions.warn("pg_trickle: model `" ~ model_name ~ "` sets status 'SUSPENDED', so the next `dbt run` suspends it again; set status 'ACTIVE' in the model to keep it running.") -%}
    {%- endif -%}
  {% endif %}
{% endmacro %}
