{#
  pgtrickle_has_create_or_replace()
  True when pg_trickle >= 0.6.0 provides create_or_replace_stream_table, i.e. a changed query
  can be applied in place (same pgt_id; dependents and grants survive). The plan then sends the
  query through alter_stream_table(query => ...), the in-place migration that
  create_or_replace_stream_table itself delegates to (pg_trickle src/api/create.rs), so this
  probe stands for that capability. Cached (pgtrickle_features).
#}
{% macro pgtrickle_has_create_or_replace() %}
  {{ return(dbt_pg_trickle.pgtrickle_features().create_or_replace) }}
{% endmacro %}
