"""pg_trickle with plain operators: create a stream table, refresh it, wait until healthy, use it.

No dbt here. The DAG creates a small source table, declares a stream table over it
(`pgtrickle.create_stream_table`), refreshes it once by hand (pg_trickle's scheduler would also
do it within the schedule), waits with a deferrable health sensor until the table is ACTIVE
and fresh, and only then reads it.

Every step is safe to re-run: the create operator leaves an identical stream table alone.
Needs the Airflow connection `postgres_default` to a PostgreSQL 18 database with pg_trickle.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from airflow.providers.common.sql.operators.sql import SQLExecuteQueryOperator
from airflow.sdk import DAG, task

from airflow_provider_pgtrickle.operators.pgtrickle import (
    PgTrickleCreateStreamTableOperator,
    PgTrickleRefreshOperator,
)
from airflow_provider_pgtrickle.sensors.pgtrickle import PgTrickleHealthSensor

CONN_ID = "postgres_default"
STREAM_TABLE = "pgtrickle_example.revenue_by_customer"

with DAG(
    dag_id="pgtrickle_operators_example",
    description="create -> refresh -> health sensor -> downstream, with pg_trickle operators",
    schedule=None,
    start_date=datetime(2025, 1, 1),
    catchup=False,
    tags=["pg_trickle", "example"],
    doc_md=__doc__,
) as dag:
    create_source = SQLExecuteQueryOperator(
        task_id="create_source",
        conn_id=CONN_ID,
        sql=[
            "CREATE SCHEMA IF NOT EXISTS pgtrickle_example",
            "CREATE TABLE IF NOT EXISTS pgtrickle_example.payments ("
            " id integer PRIMARY KEY, customer text NOT NULL, amount numeric(10, 2) NOT NULL)",
            "INSERT INTO pgtrickle_example.payments (id, customer, amount)"
            " SELECT i, 'customer_' || mod(i, 7), mod(i, 50) + 0.99"
            " FROM generate_series(1, 500) AS i ON CONFLICT (id) DO NOTHING",
        ],
    )

    # --8<-- [start:create]
    create_stream_table = PgTrickleCreateStreamTableOperator(
        task_id="create_stream_table",
        postgres_conn_id=CONN_ID,
        stream_table=STREAM_TABLE,
        query=(
            "SELECT customer, count(*) AS payments, sum(amount) AS revenue"
            " FROM pgtrickle_example.payments GROUP BY customer"
        ),
        schedule="1m",
        refresh_mode="DIFFERENTIAL",
    )
    # --8<-- [end:create]

    # --8<-- [start:refresh]
    refresh = PgTrickleRefreshOperator(
        task_id="refresh",
        postgres_conn_id=CONN_ID,
        stream_tables=[STREAM_TABLE],
    )
    # --8<-- [end:refresh]

    # --8<-- [start:sensor]
    wait_until_healthy = PgTrickleHealthSensor(
        task_id="wait_until_healthy",
        postgres_conn_id=CONN_ID,
        stream_tables=[STREAM_TABLE],
        deferrable=True,
        poke_interval=10,
        timeout=timedelta(minutes=15).total_seconds(),
    )
    # --8<-- [end:sensor]

    @task
    def top_customers() -> list[dict[str, Any]]:
        """Read the (now healthy) stream table like any other table."""
        from airflow.providers.postgres.hooks.postgres import PostgresHook

        records = PostgresHook(postgres_conn_id=CONN_ID).get_records(
            "SELECT customer, payments, revenue"
            " FROM pgtrickle_example.revenue_by_customer ORDER BY revenue DESC LIMIT 3"
        )
        return [
            {"customer": customer, "payments": payments, "revenue": float(revenue)}
            for customer, payments, revenue in records
        ]

    create_source >> create_stream_table >> refresh >> wait_until_healthy >> top_customers()
