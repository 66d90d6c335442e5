"""Every pg_trickle function runs in the caller's transaction and ROLLBACK undoes it."""

from __future__ import annotations

from collections.abc import Callable

import psycopg
import pytest

from airflow_provider_pgtrickle.testing.server import TestDatabase

from ._helpers import Conn, call, create_st, make_source, regclass, snapshot, st

TABLES = ("public.t", "public.s", "public.n")

OPERATIONS: dict[str, Callable[[Conn], object]] = {
    "create": lambda c: create_st(c, "public.n"),
    "create_uninitialized": lambda c: create_st(c, "public.n", initialize=False),
    "create_if_not_exists": lambda c: call(
        c, "create_stream_table_if_not_exists", name="public.n", query="SELECT id, v FROM src"
    ),
    "create_or_replace_new": lambda c: call(
        c, "create_or_replace_stream_table", name="public.n", query="SELECT id, v FROM src"
    ),
    "create_or_replace_query": lambda c: call(
        c,
        "create_or_replace_stream_table",
        name="public.t",
        query="SELECT id FROM src",
        schedule="1h",
        refresh_mode="DIFFERENTIAL",
    ),
    "alter_schedule": lambda c: call(c, "alter_stream_table", "public.t", schedule="5m"),
    "alter_query": lambda c: call(
        c, "alter_stream_table", "public.t", query="SELECT id, v + 1 AS w FROM src"
    ),
    "alter_mode": lambda c: call(c, "alter_stream_table", "public.t", refresh_mode="FULL"),
    "alter_status": lambda c: call(c, "alter_stream_table", "public.t", status="SUSPENDED"),
    "refresh": lambda c: call(c, "refresh_stream_table", "public.t"),
    "resume": lambda c: call(c, "resume_stream_table", "public.s"),
    "drop": lambda c: call(c, "drop_stream_table", "public.s"),
    "drop_cascade": lambda c: call(c, "drop_stream_table", "public.t", cascade=True),
    "drop_table": lambda c: c.execute("DROP TABLE public.t"),
}


def _setup(conn: Conn) -> None:
    make_source(conn)
    create_st(conn, "public.t")
    create_st(conn, "public.s", "SELECT id, v FROM public.t")
    call(conn, "alter_stream_table", "public.s", status="SUSPENDED")
    # Pending changes, so a refresh inside the transaction really changes something.
    conn.execute("INSERT INTO src VALUES (4, 40)")


@pytest.mark.parametrize("operation", list(OPERATIONS))
def test_13_18_rollback_undoes_everything(
    pgtrickle_db: TestDatabase, pgtrickle_conn: Conn, operation: str
) -> None:
    _setup(pgtrickle_conn)
    with pgtrickle_db.connect() as other:
        before = snapshot(other, *TABLES)
    pgtrickle_conn.execute("BEGIN")
    OPERATIONS[operation](pgtrickle_conn)
    # Uncommitted work is invisible to other sessions (catalog only: DDL in the open
    # transaction holds locks that would block reading the tables themselves)...
    with pgtrickle_db.connect() as other:
        assert snapshot(other, contents=False) == snapshot_without_contents(before)
    pgtrickle_conn.execute("ROLLBACK")
    # ...and gone after ROLLBACK.
    with pgtrickle_db.connect() as other:
        assert snapshot(other, *TABLES) == before


def snapshot_without_contents(snap: dict[str, object]) -> dict[str, object]:
    return {key: value for key, value in snap.items() if not key.startswith("content:")}


def test_13_18_later_error_undoes_the_whole_transaction(
    pgtrickle_db: TestDatabase, pgtrickle_conn: Conn
) -> None:
    _setup(pgtrickle_conn)
    with pgtrickle_db.connect() as other:
        before = snapshot(other, *TABLES)
    pgtrickle_conn.execute("BEGIN")
    create_st(pgtrickle_conn, "public.n")
    call(pgtrickle_conn, "refresh_stream_table", "public.t")
    call(pgtrickle_conn, "alter_stream_table", "public.t", schedule="5m")
    with pytest.raises(psycopg.errors.DivisionByZero):
        pgtrickle_conn.execute("SELECT 1 / 0")
    pgtrickle_conn.execute("ROLLBACK")
    with pgtrickle_db.connect() as other:
        assert snapshot(other, *TABLES) == before


def test_13_18_commit_makes_work_visible(pgtrickle_db: TestDatabase, pgtrickle_conn: Conn) -> None:
    make_source(pgtrickle_conn)
    pgtrickle_conn.execute("BEGIN")
    create_st(pgtrickle_conn, "public.n")
    with pgtrickle_db.connect() as other:
        assert st(other, "public.n") is None
        assert regclass(other, "public.n") is None
    pgtrickle_conn.execute("COMMIT")
    with pgtrickle_db.connect() as other:
        assert st(other, "public.n") is not None
        assert regclass(other, "public.n") is not None


def test_11_driver_transaction_needs_explicit_commit(pgtrickle_db: TestDatabase) -> None:
    with pgtrickle_db.connect() as setup:
        make_source(setup)
    with pgtrickle_db.connect(autocommit=False) as conn:
        create_st(conn, "public.n")
        conn.rollback()
        with pgtrickle_db.connect() as other:
            assert st(other, "public.n") is None
        create_st(conn, "public.n")
        conn.commit()
        with pgtrickle_db.connect() as other:
            assert st(other, "public.n") is not None
