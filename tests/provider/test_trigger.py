"""PgTrickleHealthTrigger run directly in an event loop, one test per terminal state."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from airflow_provider_pgtrickle.hooks.pgtrickle import PgTrickleHook
from airflow_provider_pgtrickle.testing.server import TestServer
from airflow_provider_pgtrickle.triggers.pgtrickle import PgTrickleHealthTrigger

from .conftest import ORDERS_QUERY

ST = "public.order_totals"


def trigger(*, deadline_in: float = 600, **kwargs: Any) -> PgTrickleHealthTrigger:
    options: dict[str, Any] = {
        "postgres_conn_id": "postgres_default",
        "stream_tables": [ST],
        "schema": None,
        "max_staleness": None,
        "min_data_timestamp": None,
        "fail_on_error": True,
        "poll_interval": 0.2,
        "deadline": (datetime.now(timezone.utc) + timedelta(seconds=deadline_in)).isoformat(),
    }
    options.update(kwargs)
    return PgTrickleHealthTrigger(**options)


async def events(t: PgTrickleHealthTrigger, during: Any = None) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    side = asyncio.ensure_future(during()) if during else None
    async for event in t.run():
        out.append(event.payload)
    if side is not None:
        await side
    return out


def test_serialize_is_pinned() -> None:
    t = PgTrickleHealthTrigger(
        postgres_conn_id="pg",
        stream_tables=["s.a", "s.b"],
        schema=None,
        max_staleness=300.0,
        min_data_timestamp="2025-01-01T00:00:00+00:00",
        fail_on_error=True,
        poll_interval=30.0,
        deadline="2025-01-02T00:00:00+00:00",
    )
    assert t.serialize() == (
        "airflow_provider_pgtrickle.triggers.pgtrickle.PgTrickleHealthTrigger",
        {
            "postgres_conn_id": "pg",
            "stream_tables": ["s.a", "s.b"],
            "schema": None,
            "max_staleness": 300.0,
            "min_data_timestamp": "2025-01-01T00:00:00+00:00",
            "fail_on_error": True,
            "poll_interval": 30.0,
            "deadline": "2025-01-02T00:00:00+00:00",
            "sources_since": None,
            "fail_on_paused": False,
            "require_sla_meeting": False,
        },
    )
    classpath, kwargs = t.serialize()
    assert PgTrickleHealthTrigger(**kwargs).serialize() == (classpath, kwargs)


def test_success(pgtrickle_airflow_conn: str, hook: PgTrickleHook, orders: str) -> None:
    hook.create_stream_table(ST, ORDERS_QUERY)
    [event] = asyncio.run(events(trigger()))
    assert event["status"] == "success"
    assert event["tables"] == [ST]
    assert event["report"]["state"] == "healthy"


def test_success_after_waiting(
    pgtrickle_airflow_conn: str, hook: PgTrickleHook, orders: str
) -> None:
    hook.create_stream_table(ST, ORDERS_QUERY, initialize=False)

    async def refresh_later() -> None:
        await asyncio.sleep(0.5)
        await asyncio.to_thread(hook.refresh_stream_table, ST)

    [event] = asyncio.run(events(trigger(), refresh_later))
    assert event["status"] == "success"


def test_error(pgtrickle_airflow_conn: str, hook: PgTrickleHook, orders: str) -> None:
    hook.create_stream_table(ST, ORDERS_QUERY)
    hook.alter_stream_table(ST, status="ERROR")
    [event] = asyncio.run(events(trigger()))
    assert event["status"] == "error"
    assert "`public.order_totals` is ERROR" in event["message"]


def test_unknown_name_is_an_error(pgtrickle_airflow_conn: str, orders: str) -> None:
    [event] = asyncio.run(events(trigger(stream_tables=["public.nope"])))
    assert event["status"] == "error"
    assert event["tables"] == ["public.nope"]


def test_timeout(pgtrickle_airflow_conn: str, hook: PgTrickleHook, orders: str) -> None:
    hook.create_stream_table(ST, ORDERS_QUERY, initialize=False)
    [event] = asyncio.run(events(trigger(deadline_in=-1)))
    assert event["status"] == "timeout"
    assert "not populated yet" in event["message"]
    assert event["tables"] == [ST]


def test_unreachable_database_is_an_error_at_once(
    pgtrickle_server: TestServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = pgtrickle_server.database("pgt_no_such_database")
    for key, value in missing.airflow_env("postgres_default").items():
        monkeypatch.setenv(key, value)
    [event] = asyncio.run(events(trigger(deadline_in=600)))
    assert event["status"] == "error"
    assert "pgt_no_such_database" in event["message"]
    assert "does not exist" in event["message"]


def test_timeout_names_the_connection_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    # Nothing listens on this port: a transient failure, retried until the deadline.
    monkeypatch.setenv("AIRFLOW_CONN_POSTGRES_DEFAULT", "postgres://u@127.0.0.1:1/db")
    [event] = asyncio.run(events(trigger(deadline_in=-1)))
    assert event["status"] == "timeout"
    assert "could not reach the database" in event["message"]


def test_event_names_at_most_ten_tables(pgtrickle_airflow_conn: str) -> None:
    """The event is stored in Airflow's metadata database: its lists stay bounded."""
    names = [f"public.missing_{i:02d}" for i in range(25)]

    (event,) = asyncio.run(events(trigger(stream_tables=names)))

    assert event["status"] == "error"
    assert len(event["tables"]) == 10
    assert set(event["tables"]) <= set(names)
