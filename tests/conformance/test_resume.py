"""resume_stream_table (pg_trickle src/api/alter.rs, resume_stream_table_impl)."""

from __future__ import annotations

import psycopg
import pytest

from airflow_provider_pgtrickle.testing.server import TestDatabase

from ._helpers import (
    Conn,
    assert_pg_error,
    call,
    content,
    create_st,
    history,
    make_source,
    set_catalog,
    snapshot,
    st,
)


@pytest.mark.parametrize("status", ["SUSPENDED", "ERROR"])
def test_13_16_resume_clears_counters_and_errors(
    pgtrickle_db: TestDatabase, pgtrickle_conn: Conn, status: str
) -> None:
    conn = pgtrickle_conn
    make_source(conn)
    create_st(conn, "public.t")
    call(conn, "alter_stream_table", "public.t", status=status)
    set_catalog(conn, "public.t", {"consecutive_errors": 3, "last_error_message": "boom"})
    conn.execute("UPDATE pgtrickle.pgt_stream_tables SET last_error_at = now()")
    conn.execute("INSERT INTO src VALUES (4, 40)")
    before = st(conn, "public.t")
    assert before is not None
    stale_content = content(conn, "public.t")
    call(conn, "resume_stream_table", "public.t")
    with pgtrickle_db.connect() as other:
        entry = st(other, "public.t")
        assert entry is not None
        assert entry["status"] == "ACTIVE"
        assert entry["consecutive_errors"] == 0
        assert entry["last_error_message"] is None
        assert entry["last_error_at"] is None
        # Resume does not refresh.
        assert entry["last_refresh_at"] == before["last_refresh_at"]
        assert entry["data_timestamp"] == before["data_timestamp"]
        assert content(other, "public.t") == stale_content
        assert len(history(other, "public.t")) == 1


@pytest.mark.parametrize(
    ("name", "printed"), [("public.t", "public.t"), ("t", "public.t"), ("s1.t", "s1.t")]
)
def test_13_16_resume_of_active_table_fails(
    pgtrickle_db: TestDatabase, pgtrickle_conn: Conn, name: str, printed: str
) -> None:
    pgtrickle_conn.execute("CREATE SCHEMA s1")
    make_source(pgtrickle_conn, "public.src")
    create_st(pgtrickle_conn, printed, "SELECT id, v FROM public.src")
    before = snapshot(pgtrickle_conn, printed)
    with pytest.raises(psycopg.Error) as err:
        call(pgtrickle_conn, "resume_stream_table", name)
    assert_pg_error(
        err.value,
        "22023",
        f"invalid argument: stream table {printed} is not suspended or in error state"
        " (current status: ACTIVE)",
    )
    with pgtrickle_db.connect() as other:
        assert snapshot(other, printed) == before


def test_13_16_resume_of_initializing_table_fails(pgtrickle_conn: Conn) -> None:
    make_source(pgtrickle_conn)
    create_st(pgtrickle_conn, "public.t")
    call(pgtrickle_conn, "alter_stream_table", "public.t", status="INITIALIZING")
    with pytest.raises(psycopg.Error) as err:
        call(pgtrickle_conn, "resume_stream_table", "public.t")
    assert_pg_error(
        err.value,
        "22023",
        "invalid argument: stream table public.t is not suspended or in error state"
        " (current status: INITIALIZING)",
    )


def test_04_7_resume_is_strict(pgtrickle_conn: Conn) -> None:
    make_source(pgtrickle_conn)
    create_st(pgtrickle_conn, "public.t")
    call(pgtrickle_conn, "alter_stream_table", "public.t", status="SUSPENDED")
    pgtrickle_conn.execute("SELECT pgtrickle.resume_stream_table(NULL)")
    assert st(pgtrickle_conn, "public.t")["status"] == "SUSPENDED"  # type: ignore[index]


def test_04_7_resume_unblocks_manual_refresh(pgtrickle_conn: Conn) -> None:
    make_source(pgtrickle_conn)
    create_st(pgtrickle_conn, "public.t")
    call(pgtrickle_conn, "alter_stream_table", "public.t", status="SUSPENDED")
    call(pgtrickle_conn, "resume_stream_table", "public.t")
    call(pgtrickle_conn, "refresh_stream_table", "public.t")
    assert [h["initiated_by"] for h in history(pgtrickle_conn, "public.t")] == [
        "INITIAL",
        "MANUAL",
    ]
