"""Server restarts and crashes: waiting sensors ride through, interrupted work converges.

These tests stop and start PostgreSQL, so they run on a private server of their own (the
session server is shared by every other test).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import psycopg
import pytest

from airflow_provider_pgtrickle.exceptions import PgTrickleError, PgTrickleRefreshError
from airflow_provider_pgtrickle.hooks.pgtrickle import PgTrickleHook
from airflow_provider_pgtrickle.operators.pgtrickle import (
    PgTrickleCreateStreamTableOperator,
    PgTrickleRefreshOperator,
)
from airflow_provider_pgtrickle.sensors.pgtrickle import PgTrickleHealthSensor
from airflow_provider_pgtrickle.testing.server import (
    TestDatabase,
    TestServer,
    pg_ctl,
    start_double_server,
)
from airflow_provider_pgtrickle.triggers.pgtrickle import PgTrickleHealthTrigger

from .conftest import ORDERS_QUERY, context, wait_for_lock_wait

pytestmark = [pytest.mark.slow, pytest.mark.requires_double]

ST = "public.totals"


@pytest.fixture(scope="module")
def own_server() -> Iterator[TestServer]:
    with start_double_server(log_statements=False) as server:
        # The test server trades durability for speed (synchronous_commit off), which loses
        # the last commits in a crash; these tests need the durability of a real server.
        with server.admin_connect() as conn:
            conn.execute("ALTER SYSTEM SET synchronous_commit = on")
            conn.execute("SELECT pg_reload_conf()")
        yield server


@pytest.fixture
def db(own_server: TestServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestDatabase]:
    database = own_server.create_database()
    for key, value in database.airflow_env("postgres_default").items():
        monkeypatch.setenv(key, value)
    with database.connect() as conn:
        conn.execute(
            "CREATE TABLE public.orders (id int PRIMARY KEY, customer_id int NOT NULL,"
            " amount numeric NOT NULL)"
        )
        conn.execute("INSERT INTO public.orders VALUES (1, 1, 10), (2, 1, 5), (3, 2, 7)")
        conn.execute("CREATE TABLE public.other (id int PRIMARY KEY)")
        conn.execute("INSERT INTO public.other VALUES (1)")
    try:
        yield database
    finally:
        own_server.drop_database(database.dbname)


def _restart(server: TestServer, *, mode: str = "fast", down_for: float = 1.0) -> None:
    pg_ctl(server, "stop", mode=mode)
    threading.Event().wait(down_for)
    pg_ctl(server, "start")


def _catalog(db: TestDatabase) -> list[tuple[Any, ...]]:
    with db.connect() as conn:
        return conn.execute(
            "SELECT pgt_schema, pgt_name, status, is_populated,"
            " to_regclass(pgt_schema || '.' || pgt_name) IS NOT NULL"
            " FROM pgtrickle.pgt_stream_tables ORDER BY 1, 2"
        ).fetchall()


def test_deferred_sensor_trigger_rides_through_a_restart(
    own_server: TestServer, db: TestDatabase
) -> None:
    hook = PgTrickleHook()
    hook.create_stream_table(ST, ORDERS_QUERY, initialize=False)
    trigger = PgTrickleHealthTrigger(
        postgres_conn_id="postgres_default",
        stream_tables=[ST],
        schema=None,
        max_staleness=None,
        min_data_timestamp=None,
        fail_on_error=True,
        poll_interval=0.2,
        deadline=(datetime.now(timezone.utc) + timedelta(seconds=120)).isoformat(),
    )

    async def scenario() -> list[dict[str, Any]]:
        async def restart_then_refresh() -> None:
            await asyncio.sleep(0.5)
            await asyncio.to_thread(_restart, own_server)
            await asyncio.to_thread(hook.refresh_stream_table, ST)

        side = asyncio.ensure_future(restart_then_refresh())
        events = [event.payload async for event in trigger.run()]
        await side
        return events

    [event] = asyncio.run(scenario())
    assert event["status"] == "success", event


def test_poke_sensor_rides_through_a_restart(own_server: TestServer, db: TestDatabase) -> None:
    hook = PgTrickleHook()
    hook.create_stream_table(ST, ORDERS_QUERY, initialize=False)
    sensor = PgTrickleHealthSensor(
        task_id="wait", stream_tables=ST, poke_interval=0.2, timeout=120, mode="poke"
    )
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["value"] = sensor.execute({})
        except BaseException as error:
            outcome["error"] = error

    worker = threading.Thread(target=run)
    worker.start()
    threading.Event().wait(0.5)
    _restart(own_server)
    hook.refresh_stream_table(ST)
    worker.join(timeout=120)
    if "error" in outcome:
        raise outcome["error"]
    assert outcome["value"]["state"] == "healthy"


def test_crash_during_a_refresh_batch_then_the_rerun_converges(
    own_server: TestServer, db: TestDatabase
) -> None:
    hook = PgTrickleHook()
    hook.create_stream_table("public.a_blocked", ORDERS_QUERY, refresh_mode="FULL")
    hook.create_stream_table("public.b_free", "SELECT id FROM public.other", refresh_mode="FULL")
    op = PgTrickleRefreshOperator(
        task_id="r", stream_tables=["public.a_blocked", "public.b_free"], max_parallel=2
    )
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["value"] = op.execute(context())
        except BaseException as error:
            outcome["error"] = error

    blocker = db.connect(autocommit=False)
    blocker.execute("LOCK TABLE public.orders IN ACCESS EXCLUSIVE MODE")
    worker = threading.Thread(target=run)
    worker.start()
    wait_for_lock_wait(db, "refresh_stream_table")
    _restart(own_server, mode="immediate")
    worker.join(timeout=60)
    with contextlib.suppress(psycopg.Error):
        blocker.close()
    error = outcome.get("error")
    assert isinstance(error, PgTrickleRefreshError), outcome
    results = {r["stream_table"]: r for r in error.results}
    assert results["public.a_blocked"]["action"] == "failed"
    assert "connection" in results["public.a_blocked"]["message"]
    # Crash recovery left the catalog whole: both tables there, storage and all.
    assert [row[:2] for row in _catalog(db)] == [
        ("public", "a_blocked"),
        ("public", "b_free"),
    ]
    assert all(row[4] for row in _catalog(db))
    # Airflow's retry: the same batch converges.
    again = PgTrickleRefreshOperator(
        task_id="r", stream_tables=["public.a_blocked", "public.b_free"], max_parallel=2
    ).execute(context())
    assert [r["action"] for r in again] == ["refreshed", "refreshed"]
    with db.connect() as conn:
        assert conn.execute("SELECT count(*) FROM public.a_blocked").fetchone() == (2,)


def test_crash_during_a_create_leaves_nothing_and_the_rerun_converges(
    own_server: TestServer, db: TestDatabase
) -> None:
    op = PgTrickleCreateStreamTableOperator(
        task_id="c", stream_table=ST, query=ORDERS_QUERY, schedule="5m"
    )
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["value"] = op.execute(context())
        except BaseException as error:
            outcome["error"] = error

    blocker = db.connect(autocommit=False)
    blocker.execute("LOCK TABLE public.orders IN ACCESS EXCLUSIVE MODE")
    worker = threading.Thread(target=run)
    worker.start()
    wait_for_lock_wait(db, "stream_table")
    _restart(own_server, mode="immediate")
    worker.join(timeout=60)
    with contextlib.suppress(psycopg.Error):
        blocker.close()
    assert isinstance(outcome.get("error"), PgTrickleError), outcome
    assert "connection" in str(outcome["error"])
    # Nothing half-created: no catalog row, no storage table.
    assert _catalog(db) == []
    with db.connect() as conn:
        assert conn.execute("SELECT to_regclass('public.totals')").fetchone() == (None,)
    again = PgTrickleCreateStreamTableOperator(
        task_id="c", stream_table=ST, query=ORDERS_QUERY, schedule="5m"
    ).execute(context())
    assert again["action"] == "created"
    assert _catalog(db) == [("public", "totals", "ACTIVE", True, True)]
