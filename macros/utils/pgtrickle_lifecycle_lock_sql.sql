{#
  pgtrickle_lifecycle_lock_sql()
  The statement that serializes our lifecycle calls (create, create_or_replace, alter, drop)
  in one database: a transaction-scoped advisory lock, held until the calls commit. pg_trickle
  0.67.0 lets two sessions installing change capture on one source collide (23505 or a
  deadlock, e.g. dbt with threads > 1); why and the key: airflow_provider_pgtrickle/vocabulary/lifecycle.py.
  Returns: SQL text.
#}
{% macro pgtrickle_lifecycle_lock_sql() %}
  {{ return(dbt_pg_trickle.pgtrickle_config_vocabulary().lifecycle_lock_sql) }}
{% endmacro %}
