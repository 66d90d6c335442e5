"""Event-driven DAGs: an `AssetWatcher` on a stream table's asset, fired by pg_trickle refreshes."""

from __future__ import annotations

import asyncio
import importlib.util
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest
from airflow.triggers.base import BaseEventTrigger

from airflow_provider_pgtrickle.assets import stream_table_asset, stream_table_watcher
from airflow_provider_pgtrickle.hooks.pgtrickle import PgTrickleHook
from airflow_provider_pgtrickle.triggers.pgtrickle import (
    PgTrickleStreamTableRefreshedTrigger,
    hub_for,
)

from .conftest import ORDERS_QUERY
from .test_trigger_shared import KEY, Triggerer, shared_streams_only, until

ST = "public.order_totals"
EXAMPLE = Path(__file__).resolve().parents[2] / "dags" / "pgtrickle_event_driven_example.py"


def test_example_dag_is_scheduled_on_a_watched_stream_table_asset(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_POSTGRES_DEFAULT", "postgres://u@db.example:5433/shop")
    spec = importlib.util.spec_from_file_location("pgtrickle_event_driven_example", EXAMPLE)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)

    asset = module.order_totals
    assert asset.uri == "postgres://db.example:5433/shop/analytics/order_totals"
    assert asset.uri == stream_table_asset("postgres_default", "analytics.order_totals").uri
    [watcher] = asset.watchers
    trigger = watcher.trigger
    assert isinstance(trigger, PgTrickleStreamTableRefreshedTrigger)
    assert isinstance(trigger, BaseEventTrigger)
    classpath, kwargs = trigger.serialize()
    assert kwargs == {
        "postgres_conn_id": "postgres_default",
        "stream_table": "analytics.order_totals",
        "poll_interval": 60.0,
        "since": None,
    }
    # Airflow identifies a watcher's trigger by this hash across DAG parses.
    again = stream_table_watcher("postgres_default", "analytics.order_totals").trigger
    assert BaseEventTrigger.hash(classpath, kwargs) == BaseEventTrigger.hash(*again.serialize())
    assert module.dag.timetable.asset_condition is not None


@shared_streams_only
def test_watcher_fires_an_asset_event_payload_per_refresh_with_new_data(
    pgtrickle_airflow_conn: str,
    pgtrickle_conn: psycopg.Connection[Any],
    hook: PgTrickleHook,
    orders: str,
    pgtrickle_tick: Callable[[], list[dict[str, Any]]],
) -> None:
    # CALCULATED so each tick refreshes it (the hook's default '1m' would not be due yet).
    hook.create_stream_table(ST, ORDERS_QUERY, schedule="calculated")
    trigger = stream_table_watcher(pgtrickle_airflow_conn, ST, poll_interval=600).trigger
    assert isinstance(trigger, PgTrickleStreamTableRefreshedTrigger)

    async def scenario() -> list[dict[str, Any]]:
        triggerer = Triggerer()
        try:
            triggerer.start([trigger])
            await until(lambda: hub_for(KEY).queries >= 1)
            for order_id in (10, 11):
                await asyncio.to_thread(
                    pgtrickle_conn.execute,
                    "INSERT INTO public.orders VALUES (%s, 9, 1)",
                    [order_id],
                )
                await asyncio.to_thread(pgtrickle_tick)
                await until(lambda n=order_id - 9: len(triggerer.events[0]) == n)
            return list(triggerer.events[0])
        finally:
            await triggerer.stop()

    first, second = asyncio.run(scenario())
    assert first["stream_table"] == second["stream_table"] == ST
    assert first["data_timestamp"] < second["data_timestamp"]
