"""create -> refresh -> health sensor -> downstream, against `postgres_default`."""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import DAG, task

from airflow_provider_pgtrickle.hooks.pgtrickle import PgTrickleHook
from airflow_provider_pgtrickle.operators.pgtrickle import (
    PgTrickleCreateStreamTableOperator,
    PgTrickleRefreshOperator,
)
from airflow_provider_pgtrickle.sensors.pgtrickle import PgTrickleHealthSensor

with DAG(
    dag_id="pgtrickle_e2e_pipeline",
    schedule=None,
    start_date=datetime(2025, 1, 1),
    catchup=False,
):
    create = PgTrickleCreateStreamTableOperator(
        task_id="create",
        stream_table="public.order_totals",
        query="SELECT customer_id, sum(amount) AS total FROM public.orders GROUP BY customer_id",
        schedule="1m",
        initialize=False,
    )
    refresh = PgTrickleRefreshOperator(task_id="refresh", stream_tables=["public.order_totals"])
    healthy = PgTrickleHealthSensor(
        task_id="healthy",
        stream_tables="public.order_totals",
        max_staleness=3600,
        poke_interval=1,
        timeout=120,
        mode="poke",
        deferrable=False,
    )

    @task
    def report() -> int:
        row = PgTrickleHook().get_first("SELECT count(*) FROM public.order_totals")
        return int(row[0])

    create >> refresh >> healthy >> report()
