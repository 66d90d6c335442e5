"""One refresh task per class of refresh failure (tests/provider/test_refresh_retries_e2e.py):
each may retry once, one second later, so Airflow's own retry decision shows in the result."""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import DAG

from airflow_provider_pgtrickle.operators.pgtrickle import PgTrickleRefreshOperator

CLASSES = (
    "lock_timeout",
    "deadlock",
    "serialization",
    "out_of_memory",
    "cancelled",
    "statement_timeout",
    "permanent",
)

with DAG(
    dag_id="pgtrickle_e2e_refresh_retries",
    schedule=None,
    start_date=datetime(2025, 1, 1),
    catchup=False,
):
    for name in CLASSES:
        PgTrickleRefreshOperator(
            task_id=f"refresh_{name}",
            stream_tables=[f"public.{name}_totals"],
            retries=1,
            retry_delay=timedelta(seconds=1),
            emit_assets=False,
        )
