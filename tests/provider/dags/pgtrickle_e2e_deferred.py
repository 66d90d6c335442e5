"""A deferrable health sensor that waits in the triggerer until its table is refreshed."""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import DAG, task

from airflow_provider_pgtrickle.sensors.pgtrickle import PgTrickleHealthSensor

with DAG(
    dag_id="pgtrickle_e2e_deferred",
    schedule=None,
    start_date=datetime(2025, 1, 1),
    catchup=False,
):
    healthy = PgTrickleHealthSensor(
        task_id="healthy",
        stream_tables=["public.late_totals"],
        poke_interval=1,
        timeout=300,
        deferrable=True,
    )

    @task
    def downstream(report: dict) -> str:
        return report["state"]

    downstream(healthy.output)
