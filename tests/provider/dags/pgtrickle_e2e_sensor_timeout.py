"""A health sensor waiting for a table that never gets populated: it must time out."""

from __future__ import annotations

from datetime import datetime

from airflow.sdk import DAG

from airflow_provider_pgtrickle.sensors.pgtrickle import PgTrickleHealthSensor

with DAG(
    dag_id="pgtrickle_e2e_sensor_timeout",
    schedule=None,
    start_date=datetime(2025, 1, 1),
    catchup=False,
):
    PgTrickleHealthSensor(
        task_id="healthy",
        stream_tables=["public.never_filled"],
        poke_interval=1,
        timeout=3,
        mode="poke",
        deferrable=False,
    )
    PgTrickleHealthSensor(
        task_id="healthy_reschedule",
        stream_tables=["public.never_filled"],
        poke_interval=1,
        timeout=3,
        mode="reschedule",
        deferrable=False,
    )
    PgTrickleHealthSensor(
        task_id="healthy_deferred",
        stream_tables=["public.never_filled"],
        poke_interval=1,
        timeout=3,
        deferrable=True,
    )
