"""The 0.108.3 double through its scheduler tick: typed failures, alert payloads with
`database_oid`, and tables the scheduler leaves alone.

Mirrors pg_trickle 0.108.3 (sql/archive/pg_trickle--0.108.3.sql: last_error_code /
last_error_retryable and history error_code / retryable; src/monitor/alert.rs: database_oid
in every payload; src/api/integration.rs and the target_freshness 'manual' contract: EXTERNAL
and manual tables are not scheduled). Failures need the double's tick, so these live here
rather than in the conformance suite. Runs only with PGTRICKLE_TEST_VERSION=0.108.3.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import psycopg
import pytest

from airflow_provider_pgtrickle.testing.server import TestDatabase
from tests.conformance._v0108 import require_0108

pytestmark = pytest.mark.requires_double

Conn = psycopg.Connection[Any]
Tick = Callable[[], list[dict[str, Any]]]


@pytest.fixture(autouse=True)
def _only_0108(pgtrickle_version: str) -> None:
    require_0108(pgtrickle_version)


@pytest.fixture
def src(pgtrickle_conn: Conn) -> Conn:
    pgtrickle_conn.execute("CREATE TABLE src (id integer PRIMARY KEY, v integer)")
    pgtrickle_conn.execute("INSERT INTO src VALUES (1, 10), (2, 20)")
    return pgtrickle_conn


def _create(conn: Conn, name: str, **kwargs: Any) -> None:
    args = {"schedule": "1m", "refresh_mode": "DIFFERENTIAL", **kwargs}
    named = ", ".join(f"{k} => %s" for k in args)
    conn.execute(
        f"SELECT pgtrickle.create_stream_table(%s, 'SELECT id, v FROM src', {named})",
        [name, *args.values()],
    )
    conn.execute("SELECT pgtrickle_test.age_stream_table(%s, '1 hour')", [name])


def _typed(db: TestDatabase, name: str) -> tuple[Any, ...]:
    with db.connect() as other:
        entry = other.execute(
            "SELECT s.last_error_code, s.last_error_retryable, h.error_code, h.retryable"
            " FROM pgtrickle.pgt_stream_tables s"
            " JOIN pgtrickle.pgt_refresh_history h USING (pgt_id)"
            " WHERE s.pgt_name = %s AND h.status = 'FAILED' ORDER BY h.refresh_id DESC LIMIT 1",
            [name],
        ).fetchone()
    assert entry is not None
    return tuple(entry)


def test_retryable_failure_is_typed(
    pgtrickle_db: TestDatabase, src: Conn, pgtrickle_tick: Tick
) -> None:
    _create(src, "t")
    src.execute("SELECT pgtrickle_test.inject_failure('t', 'simulated outage')")
    assert [r["status"] for r in pgtrickle_tick()] == ["FAILED"]
    assert _typed(pgtrickle_db, "t") == ("UNKNOWN_RETRYABLE", True, "UNKNOWN_RETRYABLE", True)


def test_permanent_failure_is_typed_and_success_clears_it(
    pgtrickle_db: TestDatabase, src: Conn, pgtrickle_tick: Tick
) -> None:
    _create(src, "t")
    src.execute("SELECT pgtrickle_test.inject_failure('t', 'broken', permanent => true)")
    assert [r["status"] for r in pgtrickle_tick()] == ["FAILED"]
    assert _typed(pgtrickle_db, "t") == ("PERMANENT", False, "PERMANENT", False)
    src.execute("SELECT pgtrickle_test.clear_failures()")
    src.execute("SELECT pgtrickle.resume_stream_table('t')")
    src.execute("SELECT pgtrickle.refresh_stream_table('t')")
    with pgtrickle_db.connect() as other:
        cleared = other.execute(
            "SELECT status, last_error_code, last_error_retryable FROM pgtrickle.pgt_stream_tables"
            " WHERE pgt_name = 't'"
        ).fetchone()
    assert cleared == ("ACTIVE", None, None)


def test_alerts_carry_the_database_oid(
    pgtrickle_db: TestDatabase, src: Conn, pgtrickle_tick: Tick
) -> None:
    _create(src, "t")
    src.execute("SELECT pgtrickle_test.inject_failure('t', 'simulated outage')")
    database_oid = src.execute(
        "SELECT oid FROM pg_database WHERE datname = current_database()"
    ).fetchone()[0]  # type: ignore[index]
    with pgtrickle_db.connect() as listener:
        listener.execute("LISTEN pg_trickle_alert")
        pgtrickle_tick()
        payloads = [json.loads(n.payload) for n in listener.notifies(timeout=2.0, stop_after=1)]
    assert [(p["event"], p["st"], p["database_oid"]) for p in payloads] == [
        ("refresh_failed", "public.t", database_oid)
    ]


def test_resumed_alert_carries_the_database_oid(pgtrickle_db: TestDatabase, src: Conn) -> None:
    _create(src, "t")
    src.execute("SELECT pgtrickle.pause_stream_table('t')")
    database_oid = src.execute(
        "SELECT oid FROM pg_database WHERE datname = current_database()"
    ).fetchone()[0]  # type: ignore[index]
    with pgtrickle_db.connect() as listener:
        listener.execute("LISTEN pg_trickle_alert")
        src.execute("SELECT pgtrickle.resume_stream_table('t')")
        payloads = [json.loads(n.payload) for n in listener.notifies(timeout=2.0, stop_after=1)]
    assert [(p["event"], p["st"], p["database_oid"]) for p in payloads] == [
        ("resumed", "public.t", database_oid)
    ]


@pytest.mark.parametrize(
    "kwargs",
    [{"orchestration_mode": "EXTERNAL"}, {"schedule": "calculated", "target_freshness": "manual"}],
)
def test_external_and_manual_tables_are_not_scheduled(
    src: Conn, pgtrickle_tick: Tick, kwargs: dict[str, Any]
) -> None:
    _create(src, "t", **kwargs)
    _create(src, "managed")
    # Pending changes make both due (a calculated schedule refreshes when its sources changed).
    src.execute("INSERT INTO src VALUES (3, 30)")
    assert [r["pgt_name"] for r in pgtrickle_tick()] == ["managed"]
