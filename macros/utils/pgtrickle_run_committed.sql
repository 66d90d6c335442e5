{#
  pgtrickle_run_committed(label, statements)
  Run pg_trickle calls so that they are committed, all or none, without stray BEGIN / COMMIT.
  How dbt-postgres (psycopg2, not autocommit) handles transactions decides the form:
  - In a model (pgtrickle_in_model_transaction): dbt's transaction is already open (psycopg2
    sent BEGIN before the model's first read). The calls join it and the materialization's one
    `adapter.commit()` commits them together with the inside-transaction pre-hooks, grants,
    persist_docs and inside-transaction post-hooks, as dbt's own table materialization does:
    a failing call, grant or hook rolls everything back, so nothing is left half-created.
    Committing here instead would not give the calls a transaction of their own: psycopg2
    does not notice a COMMIT sent as SQL and never sends BEGIN on that connection again, so
    the grants and post-hooks after it would run outside any transaction and dbt's closing
    COMMIT would warn "there is no transaction in progress".
  - In a run-operation: dbt committed the connection's transaction before the macro started
    (clear_transaction), so every statement autocommits and dbt never commits or rolls back
    for us. The calls go as one `BEGIN; ...; COMMIT` message: a transaction of their own,
    committed before this returns; a failure part-way aborts the whole block.
  Reads in run-operations must therefore not use `auto_begin=True` (dbt would then send a
  ROLLBACK at the end with no transaction open); see pgtrickle_get_stream_tables_info.
  Args: label (statement name), statements (list of SQL texts without trailing semicolons),
  lifecycle (true for create/alter/drop calls: they first take pgtrickle_lifecycle_lock_sql, in
  the same transaction, so concurrent dbt threads cannot collide inside pg_trickle).
#}
{% macro pgtrickle_run_committed(label, statements, lifecycle=false) %}
  {% if execute and statements | length > 0 %}
    {% if lifecycle %}
      {% set statements = [dbt_pg_trickle.pgtrickle_lifecycle_lock_sql()] + statements %}
    {% endif %}
    {% if dbt_pg_trickle.pgtrickle_in_model_transaction() %}
      {% call statement(label, auto_begin=True, fetch_result=False) -%}
{{ statements | join(';\n') }}
      {%- endcall %}
    {% else %}
      {% call statement(label, auto_begin=False, fetch_result=False) -%}
BEGIN;
{% for stmt in statements -%}
{{ stmt }};
{% endfor -%}
COMMIT
      {%- endcall %}
    {% endif %}
  {% endif %}
{% endmacro %}
