"""Shared, push-first waiting: many triggers on one connection id, driven the triggerer's way.

Each test runs the triggers through Airflow's own `TriggerRunner.run_trigger`, the code the
triggerer process runs per trigger, with its shared-stream manager. Server
connections are counted in `pg_stat_activity` from a separate connection.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

import psycopg
import pytest
from airflow.jobs.triggerer_job_runner import TriggerRunner

from airflow_provider_pgtrickle._compat import SHARED_TRIGGER_STREAMS, has_airflow
from airflow_provider_pgtrickle.hooks.pgtrickle import PgTrickleHook
from airflow_provider_pgtrickle.testing.server import TestDatabase
from airflow_provider_pgtrickle.triggers.pgtrickle import (
    PgTrickleHealthTrigger,
    PgTrickleStreamTableRefreshedTrigger,
    _notified_table,
    _PgTrickleStreamTrigger,
    hub_for,
)

from .conftest import ORDERS_QUERY

ST = "public.order_totals"
KEY = ("airflow_provider_pgtrickle", "postgres_default")

#: For tests of the sharing itself: older triggerers call each trigger's `run()` instead
#: (one connection per trigger), which tests/provider/test_compat.py covers.
shared_streams_only = pytest.mark.skipif(
    not has_airflow(SHARED_TRIGGER_STREAMS),
    reason="the triggerer shares streams from Airflow 3.3 on",
)


def hub_of(trigger: _PgTrickleStreamTrigger) -> Any:
    """The hub a trigger's stream reports to: the shared one (Airflow 3.3+), else its own
    (`run()`'s private stream, as older triggerers run it)."""
    if has_airflow(SHARED_TRIGGER_STREAMS):
        return hub_for(trigger.shared_stream_key())
    return hub_for(("airflow_provider_pgtrickle", trigger.postgres_conn_id, "solo", id(trigger)))


def health(
    *, poll_interval: float, deadline_in: float = 900, **kwargs: Any
) -> PgTrickleHealthTrigger:
    options: dict[str, Any] = {
        "postgres_conn_id": "postgres_default",
        "stream_tables": [ST],
        "schema": None,
        "max_staleness": None,
        "min_data_timestamp": None,
        "fail_on_error": True,
        "poll_interval": poll_interval,
        "deadline": (datetime.now(timezone.utc) + timedelta(seconds=deadline_in)).isoformat(),
    }
    options.update(kwargs)
    return PgTrickleHealthTrigger(**options)


class Triggerer:
    """Airflow's own `TriggerRunner.run_trigger` for a list of triggers, in the running loop.

    `run_trigger` is what the triggerer process runs per trigger: for a `BaseEventTrigger` with
    a `shared_stream_key()` it subscribes to the runner's `SharedStreamManager` (the first
    subscriber opens the stream), iterates `filter_shared_stream`, and unsubscribes at the end.
    """

    def __init__(self) -> None:
        self.runner = TriggerRunner()  # type: ignore[no-untyped-call]
        self.tasks: dict[int, asyncio.Task[None]] = {}

    def start(self, triggers: Sequence[_PgTrickleStreamTrigger]) -> None:
        for trigger in triggers:
            trigger_id = len(self.tasks)
            trigger.task_instance = None  # type: ignore[assignment]  # a bare trigger, no task
            self.runner.triggers[trigger_id] = {
                "task": None,  # type: ignore[typeddict-item]
                "name": f"pgtrickle-{trigger_id}",
                "events": 0,
                "is_watcher": isinstance(trigger, PgTrickleStreamTableRefreshedTrigger),
            }
            self.tasks[trigger_id] = asyncio.create_task(
                self.runner.run_trigger(trigger_id, trigger)
            )

    @property
    def events(self) -> dict[int, list[dict[str, Any]]]:
        out: dict[int, list[dict[str, Any]]] = {trigger_id: [] for trigger_id in self.tasks}
        for entry in self.runner.events:
            # Airflow 3.1's runner queues (trigger id, event) tuples.
            trigger_id, event = (
                (entry.trigger_id, entry.event) if hasattr(entry, "trigger_id") else entry
            )
            out[trigger_id].append(event.payload)
        return out

    async def finished(self, timeout: float) -> list[dict[str, Any]]:
        await asyncio.wait_for(asyncio.gather(*self.tasks.values()), timeout)
        return [event for events in self.events.values() for event in events]

    async def stop(self) -> None:
        for task in self.tasks.values():
            task.cancel()
        await asyncio.gather(*self.tasks.values(), return_exceptions=True)
        shared = getattr(self.runner, "_shared_streams", None)  # Airflow 3.3+
        if shared is not None:
            await shared.stop_all()


async def until(check: Callable[[], bool], timeout: float = 30) -> None:
    async with asyncio.timeout(timeout):
        while not check():
            await asyncio.sleep(0.05)


def backends(db: TestDatabase, fixture_conn: psycopg.Connection[Any]) -> int:
    """Client connections to the test database, seen from a separate connection, not counting
    the test's own fixture connection."""
    with db.connect() as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s"
            " AND backend_type = 'client backend' AND pid <> pg_backend_pid() AND pid <> %s",
            [db.dbname, fixture_conn.info.backend_pid],
        ).fetchone()
    assert row is not None
    return int(row[0])


@shared_streams_only
@pytest.mark.usefixtures("pgtrickle_airflow_conn", "orders")
def test_two_hundred_waiting_triggers_hold_one_connection_and_all_succeed(
    pgtrickle_db: TestDatabase,
    pgtrickle_conn: psycopg.Connection[Any],
    hook: PgTrickleHook,
    pgtrickle_tick: Callable[[], list[dict[str, Any]]],
) -> None:
    hook.create_stream_table(ST, ORDERS_QUERY, initialize=False)

    async def scenario() -> tuple[int, int, list[dict[str, Any]], int]:
        triggerer = Triggerer()
        try:
            triggerer.start([health(poll_interval=600) for _ in range(200)])
            hub = hub_for(KEY)
            await until(lambda: len(hub.interests) == 200 and hub.queries >= 1)
            held = await asyncio.to_thread(backends, pgtrickle_db, pgtrickle_conn)
            queries = hub.queries
            await asyncio.to_thread(pgtrickle_tick)
            events = await triggerer.finished(timeout=60)
        finally:
            await triggerer.stop()
        after = await asyncio.to_thread(backends, pgtrickle_db, pgtrickle_conn)
        return held, queries, events, after

    held, queries, events, after = asyncio.run(scenario())
    # Per-trigger connections (the old trigger) would hold 200 and exhaust max_connections.
    assert held == 1
    # Joining triggers are checked in batches; never one query per trigger.
    assert queries < 20
    assert [e["status"] for e in events] == ["success"] * 200
    assert after == 0


@shared_streams_only
def test_refresh_during_a_long_poll_interval_finishes_at_once(
    pgtrickle_airflow_conn: str,
    hook: PgTrickleHook,
    orders: str,
    pgtrickle_tick: Callable[[], list[dict[str, Any]]],
) -> None:
    hook.create_stream_table(ST, ORDERS_QUERY, initialize=False)

    async def scenario() -> tuple[list[dict[str, Any]], int]:
        triggerer = Triggerer()
        try:
            triggerer.start([health(poll_interval=600) for _ in range(3)])
            hub = hub_for(KEY)
            await until(lambda: len(hub.interests) == 3 and hub.queries >= 1)
            await asyncio.sleep(0.5)  # well inside the 600 s interval
            before = hub.queries
            await asyncio.to_thread(pgtrickle_tick)
            # Polling alone would answer after 600 s: only the notification can end this.
            events = await triggerer.finished(timeout=30)
            return events, hub.queries - before
        finally:
            await triggerer.stop()

    events, queries = asyncio.run(scenario())
    assert [e["status"] for e in events] == ["success"] * 3
    assert queries == 1


def test_pooler_compatibility_tables_are_polled(
    pgtrickle_airflow_conn: str,
    hook: PgTrickleHook,
    orders: str,
    pgtrickle_tick: Callable[[], list[dict[str, Any]]],
) -> None:
    # pg_trickle sends no notifications for these tables: the fallback poll must see them.
    hook.create_stream_table(ST, ORDERS_QUERY, initialize=False, pooler_compatibility_mode=True)

    async def scenario() -> list[dict[str, Any]]:
        triggerer = Triggerer()
        try:
            trigger = health(poll_interval=0.5)
            triggerer.start([trigger])
            hub = hub_of(trigger)
            await until(lambda: hub.queries >= 1)
            await asyncio.to_thread(pgtrickle_tick)
            return await triggerer.finished(timeout=30)
        finally:
            await triggerer.stop()

    [event] = asyncio.run(scenario())
    assert event["status"] == "success"


@shared_streams_only
def test_one_query_per_poll_interval_for_many_triggers(
    pgtrickle_airflow_conn: str, hook: PgTrickleHook, orders: str
) -> None:
    hook.create_stream_table(ST, ORDERS_QUERY, initialize=False)
    hook.create_stream_table("public.order_count", "SELECT count(*) AS n FROM public.orders")

    async def scenario() -> int:
        triggerer = Triggerer()
        try:
            both = ["public.order_count", ST]
            triggerer.start(
                [health(poll_interval=1.0) for _ in range(50)]
                + [health(poll_interval=1.0, stream_tables=both) for _ in range(50)]
            )
            hub = hub_for(KEY)
            await until(lambda: len(hub.interests) == 100)
            await asyncio.sleep(1.5)
            before = hub.queries
            await asyncio.sleep(3.0)
            return hub.queries - before
        finally:
            await triggerer.stop()

    # About three intervals; one query each (the old triggers sent 100 per interval).
    assert 2 <= asyncio.run(scenario()) <= 4


def test_deadline_passes_without_a_poll_interval_elapsing(
    pgtrickle_airflow_conn: str, hook: PgTrickleHook, orders: str
) -> None:
    hook.create_stream_table(ST, ORDERS_QUERY, initialize=False)

    async def scenario() -> list[dict[str, Any]]:
        triggerer = Triggerer()
        try:
            triggerer.start([health(poll_interval=600, deadline_in=1.0)])
            return await triggerer.finished(timeout=30)
        finally:
            await triggerer.stop()

    [event] = asyncio.run(scenario())
    assert event["status"] == "timeout"
    assert "not populated yet" in event["message"]


def test_refresh_watcher_fires_when_data_changes_not_on_no_data_refreshes(
    pgtrickle_airflow_conn: str,
    *,
    pgtrickle_conn: psycopg.Connection[Any],
    admin_conn: psycopg.Connection[Any],
    hook: PgTrickleHook,
    orders: str,
    pgtrickle_tick: Callable[[], list[dict[str, Any]]],
) -> None:
    # CALCULATED (no dependents: the fallback interval) so each tick refreshes it; the hook's
    # default '1m' would not be due yet.
    hook.create_stream_table(ST, ORDERS_QUERY, schedule="calculated")

    async def scenario() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        triggerer = Triggerer()
        watcher = PgTrickleStreamTableRefreshedTrigger(
            postgres_conn_id="postgres_default", stream_table=ST, poll_interval=600
        )
        try:
            triggerer.start([watcher])
            hub = hub_of(watcher)
            await until(lambda: hub.queries >= 1)
            await asyncio.to_thread(pgtrickle_tick)  # nothing changed: NO_DATA
            await asyncio.sleep(1.0)
            quiet = list(triggerer.events[0])
            await asyncio.to_thread(
                pgtrickle_conn.execute, "INSERT INTO public.orders VALUES (4, 3, 1)"
            )
            await asyncio.to_thread(pgtrickle_tick)
            await until(lambda: len(triggerer.events[0]) == 1)
            return quiet, list(triggerer.events[0])
        finally:
            await triggerer.stop()

    quiet, [event] = asyncio.run(scenario())
    assert quiet == []
    assert event["stream_table"] == ST
    assert event["notified"] is True
    stamp = admin_conn.execute(  # pg_trickle's record, as its owner reads it
        "SELECT data_timestamp FROM pgtrickle.pgt_stream_tables WHERE pgt_name = 'order_totals'"
    ).fetchone()
    assert stamp is not None
    assert datetime.fromisoformat(event["data_timestamp"]) == stamp[0]


@shared_streams_only
@pytest.mark.usefixtures("pgtrickle_airflow_conn", "orders")
def test_different_connection_ids_get_separate_streams(
    pgtrickle_db: TestDatabase,
    pgtrickle_conn: psycopg.Connection[Any],
    hook: PgTrickleHook,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for key, value in pgtrickle_db.airflow_env("other_pg").items():
        monkeypatch.setenv(key, value)
    hook.create_stream_table(ST, ORDERS_QUERY, initialize=False)

    async def scenario() -> int:
        triggerer = Triggerer()
        try:
            triggerer.start(
                [health(poll_interval=600) for _ in range(5)]
                + [health(poll_interval=600, postgres_conn_id="other_pg") for _ in range(5)]
            )
            await until(lambda: hub_for(KEY).queries >= 1)
            await until(lambda: hub_for(("airflow_provider_pgtrickle", "other_pg")).queries >= 1)
            return await asyncio.to_thread(backends, pgtrickle_db, pgtrickle_conn)
        finally:
            await triggerer.stop()

    assert asyncio.run(scenario()) == 2


@shared_streams_only
@pytest.mark.usefixtures("pgtrickle_airflow_conn", "orders")
def test_listener_reconnects_and_checks_at_once_after_losing_its_connection(
    pgtrickle_db: TestDatabase,
    pgtrickle_conn: psycopg.Connection[Any],
    hook: PgTrickleHook,
    pgtrickle_tick: Callable[[], list[dict[str, Any]]],
) -> None:
    hook.create_stream_table(ST, ORDERS_QUERY, initialize=False)

    def kill_listener_then_refresh() -> None:
        # Notifications sent while the listener is gone are lost; the check that follows the
        # reconnect must see the refresh anyway.
        with pgtrickle_db.connect() as admin:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s"
                " AND backend_type = 'client backend' AND pid <> pg_backend_pid()"
                " AND pid <> %s",
                [pgtrickle_db.dbname, pgtrickle_conn.info.backend_pid],
            )
        pgtrickle_tick()

    async def scenario() -> tuple[list[dict[str, Any]], int]:
        triggerer = Triggerer()
        try:
            triggerer.start([health(poll_interval=600) for _ in range(3)])
            hub = hub_for(KEY)
            await until(lambda: len(hub.interests) == 3 and hub.queries >= 1)
            await asyncio.to_thread(kill_listener_then_refresh)
            events = await triggerer.finished(timeout=30)
            return events, hub.connections
        finally:
            await triggerer.stop()

    events, connections = asyncio.run(scenario())
    assert [e["status"] for e in events] == ["success"] * 3
    assert connections == 2


def test_unreachable_database_times_out_every_waiting_trigger_by_its_deadline(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Nothing listens on this port: retried (a transient failure) until each deadline.
    monkeypatch.setenv("AIRFLOW_CONN_POSTGRES_DEFAULT", "postgres://u@127.0.0.1:1/db")

    async def scenario() -> list[dict[str, Any]]:
        triggerer = Triggerer()
        try:
            triggerer.start([health(poll_interval=600, deadline_in=1.5) for _ in range(3)])
            return await triggerer.finished(timeout=30)
        finally:
            await triggerer.stop()

    events = asyncio.run(scenario())
    assert [e["status"] for e in events] == ["timeout"] * 3
    assert all("could not reach the database" in e["message"] for e in events)


@pytest.mark.usefixtures("pgtrickle_airflow_conn", "orders")
def test_one_stream_judges_each_trigger_by_its_own_rules(
    pgtrickle_conn: psycopg.Connection[Any],
    hook: PgTrickleHook,
    admin_conn: psycopg.Connection[Any],
) -> None:
    """Triggers with different rules (a staleness limit or none) and selections (names with an
    unknown one, the whole catalog) share one stream; each gets its own verdict, and a name
    missing from the catalog fails its trigger even next to a whole-catalog one."""
    # A 2 h schedule keeps a real scheduler from refreshing the aged table meanwhile.
    hook.create_stream_table(ST, ORDERS_QUERY, schedule="2h")
    admin_conn.execute(  # what pg_trickle's worker writes
        "UPDATE pgtrickle.pgt_stream_tables SET last_refresh_at = now() - interval '1 hour'"
    )
    # The health rules also read the newest completed refresh from the history.
    admin_conn.execute(  # what pg_trickle's worker writes
        "UPDATE pgtrickle.pgt_refresh_history SET start_time = start_time - interval '1 hour'"
    )
    triggers = [
        health(poll_interval=600, stream_tables=[], schema=None),
        health(poll_interval=600, stream_tables=[ST, "public.nope"]),
        health(poll_interval=600, max_staleness=60.0, deadline_in=1),
    ]

    async def scenario() -> dict[int, list[dict[str, Any]]]:
        triggerer = Triggerer()
        try:
            triggerer.start(triggers)
            await triggerer.finished(timeout=30)
        finally:
            await triggerer.stop()
        return triggerer.events

    events = asyncio.run(scenario())
    [everything], [named], [stale] = events[0], events[1], events[2]
    assert everything["status"] == "success", everything["message"]
    assert named["status"] == "error"
    assert named["report"]["missing"] == ["public.nope"]
    assert stale["status"] == "timeout"
    assert re.search(r"is stale: last refreshed 360\ds ago, max_staleness is 60s", stale["message"])


@pytest.mark.parametrize(
    ("channel", "payload", "table"),
    [
        # src/monitor/alert.rs, build_alert_payload
        (
            "pg_trickle_alert",
            '{"event": "refresh_completed", "pgt_schema": "s", "pgt_name": "t", "st": "s.t"}',
            ("s.t", "s"),
        ),
        # src/api/refresh_ops.rs, execute_manual_full_refresh (no "rows")
        (
            "pg_trickle_refresh",
            '{"stream_table": "t", "schema": "s", "mode": "FULL"}',
            ("s.t", "s"),
        ),
        # src/refresh/merge/mod.rs, execute_full_refresh (the scheduler: with "rows")
        (
            "pg_trickle_refresh",
            '{"stream_table": "t", "schema": "s", "mode": "FULL", "rows": 4}',
            ("s.t", "s"),
        ),
        # src/scheduler/mod.rs, evaluate_fuse: the third channel, a qualified name
        (
            "pgtrickle_alert",
            '{"event":"fuse_blown","stream_table":"s.t","pending":2,"ceiling":1}',
            ("s.t", "s"),
        ),
        # src/scheduler/scheduler_loop.rs: group-level events name no stream table
        ("pgtrickle_alert", '{"event":"watermark_stuck","group":"g","source_oid":1}', None),
        ("pgtrickle_alert", "not json", None),
    ],
)
def test_every_payload_shape_names_its_table(
    channel: str, payload: str, table: tuple[str, str] | None
) -> None:
    assert _notified_table(channel, payload) == table


@pytest.mark.usefixtures("pgtrickle_airflow_conn", "orders")
def test_a_blown_fuse_ends_a_wait_at_once_through_pgtrickle_alert(
    pgtrickle_conn: psycopg.Connection[Any],
    hook: PgTrickleHook,
    pgtrickle_tick: Callable[[], list[dict[str, Any]]],
) -> None:
    # Pooler-compatibility mode silences pg_trickle_alert and pg_trickle_refresh; the fuse's
    # notice on pgtrickle_alert is all that can end this wait before its 600 s poll.
    hook.create_stream_table(
        ST, ORDERS_QUERY, schedule="calculated", pooler_compatibility_mode=True
    )
    hook.alter_stream_table(ST, fuse="on", fuse_ceiling=1)
    pgtrickle_conn.execute("INSERT INTO public.orders VALUES (4, 3, 1), (5, 3, 2)")
    later = (datetime.now(timezone.utc) + timedelta(hours=1)).isoformat()

    async def scenario() -> list[dict[str, Any]]:
        triggerer = Triggerer()
        trigger = health(poll_interval=600, min_data_timestamp=later)
        try:
            triggerer.start([trigger])
            hub = hub_of(trigger)
            await until(lambda: hub.queries >= 1)
            await asyncio.sleep(0.5)
            assert triggerer.events[0] == []
            await asyncio.to_thread(pgtrickle_tick)
            return await triggerer.finished(timeout=30)
        finally:
            await triggerer.stop()

    [event] = asyncio.run(scenario())
    assert event["status"] == "error"
    assert "has a blown fuse" in event["message"]


@pytest.mark.usefixtures("pgtrickle_airflow_conn", "orders")
def test_refresh_watcher_fires_on_a_manual_topk_refresh(
    pgtrickle_conn: psycopg.Connection[Any],
    hook: PgTrickleHook,
    admin_conn: psycopg.Connection[Any],
) -> None:
    # A manual TopK refresh moves no catalog timestamp (pg_trickle src/api/refresh_ops.rs,
    # execute_manual_refresh); its history row with changed rows is the signal.
    topk = "public.top_orders"
    hook.create_stream_table(
        topk, "SELECT id, amount FROM public.orders ORDER BY amount DESC LIMIT 2", schedule="1h"
    )

    async def scenario() -> list[dict[str, Any]]:
        triggerer = Triggerer()
        watcher = PgTrickleStreamTableRefreshedTrigger(
            postgres_conn_id="postgres_default", stream_table=topk, poll_interval=0.3
        )
        try:
            triggerer.start([watcher])
            hub = hub_of(watcher)
            await until(lambda: hub.queries >= 1)
            await asyncio.to_thread(
                pgtrickle_conn.execute, "INSERT INTO public.orders VALUES (4, 3, 100)"
            )
            await asyncio.to_thread(hook.refresh_stream_table, topk)
            await until(lambda: len(triggerer.events[0]) == 1)
            return list(triggerer.events[0])
        finally:
            await triggerer.stop()

    [event] = asyncio.run(scenario())
    assert event["stream_table"] == topk
    refreshed = admin_conn.execute(  # pg_trickle's history, as its owner reads it
        "SELECT h.start_time FROM pgtrickle.pgt_refresh_history h"
        " JOIN pgtrickle.pgt_stream_tables s USING (pgt_id) WHERE s.pgt_name = 'top_orders'"
        " ORDER BY h.refresh_id DESC LIMIT 1"
    ).fetchone()
    assert refreshed is not None
    assert datetime.fromisoformat(event["data_timestamp"]) == refreshed[0]
