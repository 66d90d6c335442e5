"""What the shared listener hears: oversized alerts (0.67.0 cuts them, 0.108.3 keeps JSON) and
alerts that name another database (0.108.3's `database_oid`).

Triggers run through Airflow's own `TriggerRunner.run_trigger`; every wait that a notification
must end has a 600 s poll interval, so only the notification can end it within the test.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import psycopg
import pytest

from airflow_provider_pgtrickle.hooks.pgtrickle import PgTrickleHook
from airflow_provider_pgtrickle.testing.server import TestDatabase
from airflow_provider_pgtrickle.triggers.pgtrickle import (
    PgTrickleStreamTableRefreshedTrigger,
    Snapshot,
    _notified_table,
    _unreadable,
)

from .conftest import ORDERS_QUERY
from .test_trigger_shared import ST, Triggerer, health, hub_of, until

Tick = Callable[[], list[dict[str, Any]]]


@pytest.mark.usefixtures("pgtrickle_airflow_conn", "orders")
def test_an_oversized_failure_alert_ends_a_wait_at_once_on_either_version(
    pgtrickle_conn: psycopg.Connection[Any],
    hook: PgTrickleHook,
    pgtrickle_db: TestDatabase,
    pgtrickle_tick: Tick,
) -> None:
    # A permanent failure with an error longer than NOTIFY carries: 0.67.0's alert is cut and
    # names no table (the listener queries for everyone), 0.108.3's stays JSON and names it.
    hook.create_stream_table(ST, ORDERS_QUERY, schedule="calculated")
    pgtrickle_conn.execute("INSERT INTO public.orders VALUES (4, 3, 1)")
    with pgtrickle_db.admin_connect() as admin:
        admin.execute(
            "SELECT pgtrickle_test.inject_failure(%s, %s, permanent => true)", [ST, "y" * 9000]
        )

    async def scenario() -> list[dict[str, Any]]:
        triggerer = Triggerer()
        # Waits (data newer than an hour from now) until the failure ends it.
        later = (datetime.now(timezone.utc) + timedelta(hours=1)).isoformat()
        trigger = health(poll_interval=600, min_data_timestamp=later)
        try:
            triggerer.start([trigger])
            await until(lambda: hub_of(trigger).queries >= 1)
            assert triggerer.events[0] == []
            await asyncio.to_thread(pgtrickle_tick)
            return await triggerer.finished(timeout=30)
        finally:
            await triggerer.stop()

    [event] = asyncio.run(scenario())
    assert event["status"] == "error"
    with pgtrickle_db.admin_connect() as other:  # 0.108.3 grants no role the catalog
        row = other.execute(
            "SELECT status FROM pgtrickle.pgt_stream_tables"
            " WHERE pgt_schema || '.' || pgt_name = %s",
            [ST],
        ).fetchone()
    assert row == ("ERROR",)


@pytest.mark.usefixtures("pgtrickle_airflow_conn", "orders")
def test_an_alert_that_names_another_database_wakes_nobody(
    hook: PgTrickleHook, pgtrickle_db: TestDatabase
) -> None:
    # Two watched tables; from a separate connection, an alert for the first with a foreign
    # `database_oid`, then one for the second with this database's (notifications arrive in
    # order). The first query a notification causes must name the second table alone.
    other_st = "public.order_counts"
    hook.create_stream_table(ST, ORDERS_QUERY, schedule="calculated")
    hook.create_stream_table(other_st, "SELECT count(*) AS n FROM public.orders", schedule="1h")
    with pgtrickle_db.connect() as conn:
        row = conn.execute(
            "SELECT oid::bigint FROM pg_database WHERE datname = current_database()"
        ).fetchone()
    assert row is not None
    here = int(row[0])

    def alert(table: str, database_oid: int) -> str:
        schema, name = table.split(".")
        return json.dumps(
            {
                "event": "refresh_failed",
                "database_oid": database_oid,
                "pgt_schema": schema,
                "pgt_name": name,
                "st": table,
                "action": "DIFFERENTIAL",
                "error": "boom",
            }
        )

    snapshots: list[Snapshot] = []

    def watcher(table: str) -> PgTrickleStreamTableRefreshedTrigger:
        trigger = PgTrickleStreamTableRefreshedTrigger(
            postgres_conn_id="postgres_default", stream_table=table, poll_interval=600
        )
        judge = trigger._judge

        def seen(snapshot: Snapshot) -> Any:
            snapshots.append(snapshot)
            return judge(snapshot)

        trigger._judge = seen  # type: ignore[method-assign]
        return trigger

    def send(*payloads: str) -> None:
        with pgtrickle_db.connect(autocommit=True) as conn:
            for payload in payloads:
                conn.execute("SELECT pg_notify('pg_trickle_alert', %s)", [payload])

    async def scenario() -> None:
        triggerer = Triggerer()
        first, second = watcher(ST), watcher(other_st)
        try:
            triggerer.start([first, second])
            await until(lambda: hub_of(first).queries >= 1 and hub_of(second).queries >= 1)
            await until(lambda: len(snapshots) >= 2)
            await asyncio.to_thread(send, alert(ST, here + 1000))
            await asyncio.to_thread(send, alert(other_st, here))
            await until(lambda: any(s.notified for s in snapshots))
        finally:
            await triggerer.stop()

    asyncio.run(scenario())
    assert {name for s in snapshots for name in s.notified} == {other_st}


# The payload shapes themselves, as the doubles send them (tests/conformance/test_notify.py).
CUT_067 = '{"action":"DIFFERENTIAL","error":"' + "y" * (7890 - 34) + "...}"
V0108 = (
    '{"action":"DIFFERENTIAL","database_oid":%d,"error":"boom","event":"refresh_failed",'
    '"pgt_name":"t","pgt_schema":"s","st":"s.t"}'
)


@pytest.mark.parametrize(
    ("payload", "database_oid", "table", "unreadable"),
    [
        (V0108 % 5, 5, ("s.t", "s"), False),
        (V0108 % 6, 5, None, False),  # another database's table
        (V0108 % 6, None, ("s.t", "s"), False),  # the database is not known: take it
        (CUT_067, 5, None, True),  # 0.67.0's cut payload: no JSON, no table
        ('{"event":"watermark_stuck","group":"g","source_oid":1}', 5, None, False),
    ],
)
def test_what_a_payload_is_about(
    payload: str, database_oid: int | None, table: tuple[str, str] | None, unreadable: bool
) -> None:
    assert _notified_table("pg_trickle_alert", payload, database_oid) == table
    assert _unreadable(payload) is unreadable
