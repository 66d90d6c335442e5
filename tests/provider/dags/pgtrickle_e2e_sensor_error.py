"""A health sensor that sees a stream table in ERROR must fail at once (long timeout)."""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import DAG

from airflow_provider_pgtrickle.sensors.pgtrickle import PgTrickleHealthSensor

with DAG(
    dag_id="pgtrickle_e2e_sensor_error",
    schedule=None,
    start_date=datetime(2025, 1, 1),
    catchup=False,
):
    PgTrickleHealthSensor(
        task_id="healthy",
        stream_tables=["public.broken"],
        poke_interval=1,
        timeout=600,
        mode="reschedule",
        deferrable=False,
    )
