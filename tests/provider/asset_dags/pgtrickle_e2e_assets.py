"""A producer DAG that deploys a stream table on two connections, and one consumer DAG per
connection scheduled on `stream_table_asset(conn, name)` (tests/provider/test_assets_e2e.py).

`pgt_with_db` names its database; `pgt_no_db` names none, so libpq connects to the database
named like its login. Kept out of tests/provider/dags/: `dag.test()` parses every file of the
DAG's folder, and this one needs its two connections to parse.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from airflow.sdk import DAG, task

from airflow_provider_pgtrickle.assets import stream_table_asset
from airflow_provider_pgtrickle.operators.pgtrickle import PgTrickleCreateStreamTableOperator

CONNECTIONS = ("pgt_with_db", "pgt_no_db")
STREAM_TABLE = "public.order_totals"

with DAG(
    dag_id="pgtrickle_e2e_asset_producer",
    schedule=None,
    start_date=datetime(2025, 1, 1),
    catchup=False,
):
    for conn_id in CONNECTIONS:
        PgTrickleCreateStreamTableOperator(
            task_id=f"create_{conn_id}",
            postgres_conn_id=conn_id,
            stream_table=STREAM_TABLE,
            query="SELECT customer_id, sum(amount) AS total FROM public.orders GROUP BY 1",
        )

for conn_id in CONNECTIONS:
    with DAG(
        dag_id=f"pgtrickle_e2e_asset_consumer_{conn_id}",
        schedule=[stream_table_asset(conn_id, STREAM_TABLE)],
        start_date=datetime(2025, 1, 1),
        catchup=False,
    ):

        @task
        def triggered_by(**context: Any) -> list[str]:
            events = context["triggering_asset_events"]
            return sorted({event.asset.uri for group in events.values() for event in group})

        triggered_by()
