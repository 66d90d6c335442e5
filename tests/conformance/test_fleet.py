"""Fleet-level functions (pg_trickle sql/archive/pg_trickle--0.67.0.sql, pause_all / resume_all)."""

from __future__ import annotations

import psycopg
import pytest

from ._helpers import (
    Conn,
    assert_pg_error,
    call,
    create_st,
    make_source,
    messages,
    notices,
    scalar,
    snapshot,
)


def test_13_23_pause_all_fails_with_status_check_violation(pgtrickle_conn: Conn) -> None:
    make_source(pgtrickle_conn)
    create_st(pgtrickle_conn, "public.a")
    create_st(pgtrickle_conn, "public.b")
    call(pgtrickle_conn, "alter_stream_table", "public.b", status="SUSPENDED")
    before = snapshot(pgtrickle_conn, "public.a", "public.b")
    with pytest.raises(psycopg.Error) as err:
        pgtrickle_conn.execute("SELECT pgtrickle.pause_all()")
    assert_pg_error(
        err.value,
        "23514",
        'new row for relation "pgt_stream_tables" violates check constraint'
        ' "pgt_stream_tables_status_check"',
    )
    assert snapshot(pgtrickle_conn, "public.a", "public.b") == before


def test_13_23_pause_all_without_active_tables_only_notices(pgtrickle_conn: Conn) -> None:
    with notices(pgtrickle_conn) as seen:
        pgtrickle_conn.execute("SELECT pgtrickle.pause_all()")
    assert "pg_trickle: all stream tables paused." in messages(seen, "NOTICE")


def test_13_23_resume_all_finds_nothing_to_do(pgtrickle_conn: Conn) -> None:
    make_source(pgtrickle_conn)
    create_st(pgtrickle_conn, "public.a")
    call(pgtrickle_conn, "alter_stream_table", "public.a", status="SUSPENDED")
    before = snapshot(pgtrickle_conn, "public.a")
    pgtrickle_conn.execute("SELECT pgtrickle.resume_all()")
    assert snapshot(pgtrickle_conn, "public.a") == before


def test_13_23_is_drained_is_true(pgtrickle_conn: Conn) -> None:
    assert scalar(pgtrickle_conn, "SELECT pgtrickle.is_drained()") is True
    make_source(pgtrickle_conn)
    create_st(pgtrickle_conn, "public.a")
    assert scalar(pgtrickle_conn, "SELECT pgtrickle.is_drained()") is True


def test_05_no_server_side_refresh_all(pgtrickle_conn: Conn) -> None:
    assert (
        scalar(
            pgtrickle_conn,
            "SELECT count(*) FROM pg_proc WHERE pronamespace = 'pgtrickle'::regnamespace"
            " AND proname IN ('refresh_all', 'refresh_all_stream_tables')",
        )
        == 0
    )
