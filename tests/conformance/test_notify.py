"""NOTIFY: what pg_trickle sends on `pg_trickle_alert`, `pg_trickle_refresh` and
`pgtrickle_alert`, and when not.

Payloads as built by pg_trickle src/monitor/alert.rs (emit_alert, build_alert_payload: the
keys `event`, `pgt_schema`, `pgt_name`, `st` plus each event's own) and
src/api/refresh_ops.rs (execute_manual_full_refresh: `NOTIFY pg_trickle_refresh` after a
FULL refresh of a stream table that has user triggers). Manual refreshes send no
`refresh_completed`: only the scheduler does (src/scheduler/mod.rs). Stream tables in
pooler-compatibility mode send nothing. A blown fuse goes to a third channel, `pgtrickle_alert`
(src/scheduler/mod.rs, evaluate_fuse). Every notification is received on a separate,
LISTENing connection, after the sender committed.

Per version (`alert_keys`): 0.67.0's build_alert_payload starts with `event`, `pgt_schema`,
`pgt_name`, `st`; 0.108.3's (src/monitor/alert.rs at 65486072) adds `database_oid`, the OID of
the database the alert comes from.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from psycopg import sql

from airflow_provider_pgtrickle.testing.server import TestDatabase

from . import _observe
from ._helpers import Conn, call, create_st, make_source, scalar, st
from ._versions import V0108, V067, expected

Notes = Callable[..., list[tuple[str, Any]]]


def alert_keys(conn: Conn, version: str, event: str, table: str = "public.t") -> dict[str, Any]:
    """The keys every stream-table alert carries, per version (see the module docstring)."""
    schema, name = table.split(".")
    keys: dict[str, Any] = {"event": event, "pgt_schema": schema, "pgt_name": name, "st": table}
    database_oid = scalar(
        conn, "SELECT oid::bigint FROM pg_database WHERE datname = current_database()"
    )
    return {**keys, **expected(version, {V067: {}, V0108: {"database_oid": database_oid}})}


@contextmanager
def listening(db: TestDatabase) -> Iterator[Notes]:
    """A separate connection LISTENing on the three channels; `notes()` returns what arrived."""
    with db.connect(autocommit=True) as listener:
        listener.execute("LISTEN pg_trickle_alert")
        listener.execute("LISTEN pg_trickle_refresh")
        listener.execute("LISTEN pgtrickle_alert")

        def notes(*, wait: float = 1.0, table: str | None = None) -> list[tuple[str, Any]]:
            out: list[tuple[str, Any]] = []
            for note in listener.notifies(timeout=wait):
                try:
                    payload: Any = json.loads(note.payload)
                except ValueError:
                    payload = note.payload
                out.append((note.channel, payload))
                _observe.record("notify", note.channel, payload)
            if table is None:
                return out
            # A real server's scheduler may speak about other tables meanwhile.
            return [
                (channel, payload)
                for channel, payload in out
                if isinstance(payload, dict)
                and table
                in (
                    payload.get("st"),
                    f"{payload.get('schema')}.{payload.get('stream_table')}",
                    payload.get("stream_table"),
                )
            ]

        yield notes


def add_user_trigger(conn: Conn, tables: list[str]) -> None:
    conn.execute(
        "CREATE FUNCTION public.noop_trigger() RETURNS trigger LANGUAGE plpgsql"
        " AS $$ BEGIN RETURN NULL; END $$"
    )
    for table in tables:
        conn.execute(
            sql.SQL(
                "CREATE TRIGGER audit AFTER INSERT ON {} FOR EACH ROW"
                " EXECUTE FUNCTION public.noop_trigger()"
            ).format(sql.Identifier(*table.split(".")))
        )


def test_resume_sends_resumed_alert_at_commit(
    pgtrickle_db: TestDatabase, pgtrickle_conn: Conn, pgtrickle_version: str
) -> None:
    conn = pgtrickle_conn
    make_source(conn)
    create_st(conn, "public.t")
    call(conn, "alter_stream_table", "public.t", status="SUSPENDED")
    with listening(pgtrickle_db) as notes:
        with conn.transaction():
            call(conn, "resume_stream_table", "public.t")
            assert notes(wait=0.3, table="public.t") == []
        got = notes(table="public.t")
    assert got == [
        (
            "pg_trickle_alert",
            {
                **alert_keys(conn, pgtrickle_version, "resumed"),
                "previous_status": "SUSPENDED",
            },
        )
    ]


def test_resume_in_pooler_compatibility_mode_is_silent(
    pgtrickle_db: TestDatabase, pgtrickle_conn: Conn
) -> None:
    conn = pgtrickle_conn
    make_source(conn)
    create_st(conn, "public.t", pooler_compatibility_mode=True)
    call(conn, "alter_stream_table", "public.t", status="SUSPENDED")
    with listening(pgtrickle_db) as notes:
        call(conn, "resume_stream_table", "public.t")
        assert notes(wait=0.5, table="public.t") == []


def test_only_manual_full_refreshes_of_tables_with_user_triggers_notify(
    pgtrickle_db: TestDatabase, pgtrickle_conn: Conn
) -> None:
    conn = pgtrickle_conn
    make_source(conn)
    create_st(conn, "public.watched", refresh_mode="FULL")
    create_st(conn, "public.plain", refresh_mode="FULL")
    create_st(conn, "public.pooled", refresh_mode="FULL", pooler_compatibility_mode=True)
    create_st(conn, "public.diff")
    add_user_trigger(conn, ["public.watched", "public.pooled"])
    conn.execute("INSERT INTO src VALUES (4, 40)")
    with listening(pgtrickle_db) as notes:
        for name in ("public.watched", "public.plain", "public.pooled", "public.diff"):
            call(conn, "refresh_stream_table", name)
        got = notes(wait=0.5)
    mine = {"watched", "plain", "pooled", "diff"}
    assert [
        (channel, payload)
        for channel, payload in got
        if isinstance(payload, dict)
        and mine & {payload.get("pgt_name"), payload.get("stream_table")}
    ] == [("pg_trickle_refresh", {"stream_table": "watched", "schema": "public", "mode": "FULL"})]


# -- the scheduler (the double's synchronous tick stands in for pg_trickle's worker) --------


@pytest.mark.requires_double
def test_scheduler_refresh_sends_refresh_completed(
    pgtrickle_db: TestDatabase,
    pgtrickle_conn: Conn,
    pgtrickle_version: str,
    pgtrickle_tick: Callable[[], list[dict[str, Any]]],
) -> None:
    conn = pgtrickle_conn
    make_source(conn)
    create_st(conn, "public.t", schedule="calculated")
    conn.execute("INSERT INTO src VALUES (4, 40)")
    with listening(pgtrickle_db) as notes:
        pgtrickle_tick()
        [(channel, payload)] = notes(table="public.t")
    assert channel == "pg_trickle_alert"
    assert isinstance(payload.pop("duration_ms"), int)
    assert payload == {
        **alert_keys(conn, pgtrickle_version, "refresh_completed"),
        "action": "DIFFERENTIAL",
        "rows_inserted": 1,
        "rows_deleted": 0,
    }


@pytest.mark.requires_double
def test_scheduler_failures_send_refresh_failed_then_auto_suspended(
    pgtrickle_db: TestDatabase,
    pgtrickle_conn: Conn,
    pgtrickle_version: str,
    pgtrickle_tick: Callable[[], list[dict[str, Any]]],
) -> None:
    conn = pgtrickle_conn
    make_source(conn)
    create_st(conn, "public.t", schedule="calculated")
    conn.execute("INSERT INTO src VALUES (4, 40)")
    conn.execute("SELECT pgtrickle_test.inject_failure('public.t', 'disk on fire')")
    with listening(pgtrickle_db) as notes:
        for _ in range(3):
            pgtrickle_tick()
        got = [payload for _, payload in notes(table="public.t")]
    assert [p["event"] for p in got] == [
        "refresh_failed",
        "refresh_failed",
        "refresh_failed",
        "auto_suspended",
    ]
    assert got[0]["action"] == "DIFFERENTIAL"
    assert got[0]["error"] == "disk on fire"
    assert got[-1] == {
        **alert_keys(conn, pgtrickle_version, "auto_suspended"),
        "consecutive_errors": 3,
    }


@pytest.mark.requires_double
def test_scheduler_full_refresh_with_user_triggers_notifies_rows(
    pgtrickle_db: TestDatabase,
    pgtrickle_conn: Conn,
    pgtrickle_tick: Callable[[], list[dict[str, Any]]],
) -> None:
    conn = pgtrickle_conn
    make_source(conn)
    create_st(conn, "public.t", schedule="calculated", refresh_mode="FULL")
    add_user_trigger(conn, ["public.t"])
    conn.execute("INSERT INTO src VALUES (4, 40)")
    with listening(pgtrickle_db) as notes:
        pgtrickle_tick()
        got = notes(table="public.t")
    assert got[0] == (
        "pg_trickle_refresh",
        {"stream_table": "t", "schema": "public", "mode": "FULL", "rows": 4},
    )
    assert [p["event"] for _, p in got[1:]] == ["refresh_completed"]


@pytest.mark.requires_double
def test_scheduler_in_pooler_compatibility_mode_is_silent(
    pgtrickle_db: TestDatabase,
    pgtrickle_conn: Conn,
    pgtrickle_tick: Callable[[], list[dict[str, Any]]],
) -> None:
    conn = pgtrickle_conn
    make_source(conn)
    create_st(conn, "public.t", schedule="calculated", pooler_compatibility_mode=True)
    conn.execute("INSERT INTO src VALUES (4, 40)")
    conn.execute("SELECT pgtrickle_test.inject_failure('public.t', 'boom')")
    with listening(pgtrickle_db) as notes:
        for _ in range(3):
            pgtrickle_tick()
        assert notes(wait=0.5, table="public.t") == []
        conn.execute("SELECT pgtrickle_test.clear_failures()")
        call(conn, "resume_stream_table", "public.t")
        pgtrickle_tick()
        assert notes(wait=0.5, table="public.t") == []


@pytest.mark.requires_double  # the double's tick stands in for the scheduler's timing
def test_blown_fuse_suspends_and_is_announced_on_pgtrickle_alert(
    pgtrickle_db: TestDatabase,
    pgtrickle_conn: Conn,
    pgtrickle_tick: Callable[[], list[dict[str, Any]]],
) -> None:
    """Mirrors pg_trickle src/scheduler/mod.rs, evaluate_fuse: more pending changes than the
    fuse's ceiling blow it before any refresh (StreamTableMeta::blow_fuse: fuse_state blown,
    status SUSPENDED, blow_reason) and send {"event": "fuse_blown", "stream_table":
    "<schema>.<name>", "pending", "ceiling"} on `pgtrickle_alert`, whatever the pooler mode."""
    conn = pgtrickle_conn
    make_source(conn)
    create_st(conn, "public.t", schedule="calculated", pooler_compatibility_mode=True)
    call(conn, "alter_stream_table", "public.t", fuse="on", fuse_ceiling=1)
    conn.execute("INSERT INTO src VALUES (4, 40), (5, 50)")
    with listening(pgtrickle_db) as notes:
        assert pgtrickle_tick() == []
        got = notes(table="public.t")
    assert got == [
        (
            "pgtrickle_alert",
            {"event": "fuse_blown", "stream_table": "public.t", "pending": 2, "ceiling": 1},
        )
    ]
    with pgtrickle_db.connect() as other:
        entry = st(other, "public.t")
        assert entry is not None
        assert (entry["fuse_state"], entry["status"]) == ("blown", "SUSPENDED")
        assert entry["blow_reason"] == "change buffer count (2) exceeded ceiling (1)"


@pytest.mark.requires_double
def test_an_oversized_alert_is_cut_on_0_67_and_stays_valid_json_on_0_108(
    pgtrickle_db: TestDatabase,
    pgtrickle_conn: Conn,
    pgtrickle_version: str,
    pgtrickle_tick: Callable[[], list[dict[str, Any]]],
) -> None:
    """pg_trickle src/monitor/alert.rs, build_alert_payload, for a `refresh_failed` whose error
    is longer than NOTIFY allows. 0.67.0 writes the keys in byte order (serde_json's default
    map), so `error` comes before the table's name, then cuts the text at byte 7,890 and
    appends `...}`: not JSON, naming no table. 0.108.3 (reduce_alert_payload) keeps valid JSON:
    `"truncated": true`, strings cut to 512 characters, the base keys kept."""
    conn = pgtrickle_conn
    make_source(conn)
    create_st(conn, "public.t", schedule="calculated")
    conn.execute("INSERT INTO src VALUES (4, 40)")
    with pgtrickle_db.admin_connect(autocommit=True) as admin:  # the test helpers' own grants
        admin.execute("SELECT pgtrickle_test.inject_failure('public.t', %s)", ["x" * 9000])
    with listening(pgtrickle_db) as notes:
        pgtrickle_tick()
        [payload] = [p for c, p in notes() if c == "pg_trickle_alert"]
    if pgtrickle_version == V067:
        assert isinstance(payload, str)
        assert len(payload.encode()) == 7890 + len("...}")
        assert payload.startswith('{"action":"DIFFERENTIAL","error":"xxx')
        assert payload.endswith("xxx...}")
    else:
        assert payload == {
            **alert_keys(conn, pgtrickle_version, "refresh_failed"),
            "action": "DIFFERENTIAL",
            "error": "x" * 512,
            "truncated": True,
        }
