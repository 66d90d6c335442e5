{#
  pgtrickle_get_auto_fallback_sql(relation, alter_sql)
  `alter_sql` (an alter_stream_table call carrying a new query, for a model with
  refresh_mode AUTO whose table pg_trickle stored as DIFFERENTIAL) wrapped so the query lands
  as AUTO would deploy it. pg_trickle checks a new query against the STORED mode with AUTO's
  fallback to FULL off (src/api/alter.rs, alter_stream_table_query), so a query only FULL can
  maintain fails with SQLSTATE 0A000 (feature_not_supported). The DO block then undoes that
  attempt (its exception handler is a subtransaction), sets the table FULL (any query suits
  FULL) and sends the same alter again, all inside the model's transaction.
  Returns: SQL text (one DO statement).
#}
{% macro pgtrickle_get_auto_fallback_sql(relation, alter_sql) -%}
  {%- set call = alter_sql | trim -%}
  {%- set to_full = dbt_pg_trickle.pgtrickle_get_alter_stream_table_sql(relation, {'refresh_mode': 'FULL'}) | trim -%}
  {#- both are `select` calls of alter_stream_table; PL/pgSQL discards a result with PERFORM -#}
  {%- set body = 'begin perform' ~ call[6:] ~ '; exception when feature_not_supported then perform' ~ to_full[6:] ~ '; perform' ~ call[6:] ~ '; end' -%}
  {{ return('do ' ~ dbt_pg_trickle.pgtrickle_dollar_quote(body)) }}
{%- endmacro %}
