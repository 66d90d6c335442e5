"""End-to-end `dag.test()` runs of the DAG files in tests/provider/dags/."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from airflow.sdk import DagRunState
from airflow_support import TRIGGER_STARTED, run_dag

from airflow_provider_pgtrickle.hooks.pgtrickle import PgTrickleHook
from airflow_provider_pgtrickle.testing.server import TestDatabase

from .conftest import ORDERS_QUERY, fetch

DAGS = Path(__file__).parent / "dags"
pytestmark = pytest.mark.slow


def test_create_refresh_sensor_downstream(
    pgtrickle_db: TestDatabase, orders: str, pgtrickle_airflow_conn: str
) -> None:
    result = run_dag(
        DAGS / "pgtrickle_e2e_pipeline.py", "pgtrickle_e2e_pipeline", env=pgtrickle_db.airflow_env()
    )
    assert result.state == DagRunState.SUCCESS, result.output[-6000:]
    assert result.task_states == {
        "create": "success",
        "refresh": "success",
        "healthy": "success",
        "report": "success",
    }
    assert result.xcoms["report"] == 2
    assert result.xcoms["create"]["action"] == "created"
    assert result.xcoms["refresh"][0]["action"] == "refreshed"
    assert fetch(pgtrickle_db, "SELECT count(*) FROM public.order_totals") == [(2,)]
    uri = (
        f"postgres://{pgtrickle_db.host}:{pgtrickle_db.port}/{pgtrickle_db.dbname}"
        "/public/order_totals"
    )
    assert result.asset_events == [uri, uri]  # emitted by create and by refresh
    assert "postgres://" not in str(result.xcoms)
    assert pgtrickle_db.password is None or pgtrickle_db.password not in result.output


def test_sensor_times_out(
    pgtrickle_db: TestDatabase, orders: str, pgtrickle_airflow_conn: str, hook: PgTrickleHook
) -> None:
    hook.create_stream_table("public.never_filled", ORDERS_QUERY, initialize=False)
    result = run_dag(
        DAGS / "pgtrickle_e2e_sensor_timeout.py",
        "pgtrickle_e2e_sensor_timeout",
        env=pgtrickle_db.airflow_env(),
    )
    assert result.state == DagRunState.FAILED
    assert result.task_states == {
        "healthy": "failed",
        "healthy_reschedule": "failed",
        "healthy_deferred": "failed",
    }
    assert "PgTrickleSensorTimeout" in result.output
    assert "not populated yet" in result.output


def test_sensor_fails_on_error(
    pgtrickle_db: TestDatabase, orders: str, pgtrickle_airflow_conn: str, hook: PgTrickleHook
) -> None:
    hook.create_stream_table("public.broken", ORDERS_QUERY)
    hook.alter_stream_table("public.broken", status="ERROR")
    result = run_dag(
        DAGS / "pgtrickle_e2e_sensor_error.py",
        "pgtrickle_e2e_sensor_error",
        env=pgtrickle_db.airflow_env(),
    )
    assert result.state == DagRunState.FAILED
    assert result.task_states == {"healthy": "failed"}
    assert "`public.broken` is ERROR" in result.output


def test_deferred_sensor_resumes(
    pgtrickle_db: TestDatabase, orders: str, pgtrickle_airflow_conn: str, hook: PgTrickleHook
) -> None:
    hook.create_stream_table("public.late_totals", ORDERS_QUERY, initialize=False)
    refreshed: list[Any] = []

    def on_line(line: str) -> None:
        # The table becomes healthy only once the sensor is waiting in the triggerer.
        if TRIGGER_STARTED in line and not refreshed:
            refreshed.append(hook.refresh_stream_table("public.late_totals"))

    result = run_dag(
        DAGS / "pgtrickle_e2e_deferred.py",
        "pgtrickle_e2e_deferred",
        env=pgtrickle_db.airflow_env(),
        on_line=on_line,
    )
    assert refreshed, result.output[-6000:]
    assert result.state == DagRunState.SUCCESS, result.output[-6000:]
    assert result.xcoms["downstream"] == "healthy"
    assert result.xcoms["healthy"]["state"] == "healthy"
