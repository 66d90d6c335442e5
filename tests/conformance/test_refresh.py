"""refresh_stream_table (pg_trickle src/api/refresh_ops.rs)."""

from __future__ import annotations

import psycopg
import pytest
from psycopg import sql

from airflow_provider_pgtrickle.testing.server import TestDatabase

from ._helpers import (
    EM_DASH,
    SIMPLE_QUERY,
    Conn,
    assert_pg_error,
    call,
    content,
    create_st,
    history,
    make_source,
    messages,
    notices,
    query_result,
    scalar,
    set_catalog,
    snapshot,
    st,
)


def refresh(conn: Conn, name: str) -> None:
    call(conn, "refresh_stream_table", name)


def test_13_11_differential_refresh_applies_changes(
    pgtrickle_db: TestDatabase, pgtrickle_conn: Conn
) -> None:
    conn = pgtrickle_conn
    make_source(conn)
    create_st(conn, "public.t", refresh_mode="DIFFERENTIAL")
    set_catalog(conn, "public.t", {"consecutive_errors": 2})
    before = st(conn, "public.t")
    assert before is not None
    conn.execute("INSERT INTO src VALUES (4, 40), (5, 50)")
    conn.execute("DELETE FROM src WHERE id = 1")
    with conn.transaction():
        refresh(conn, "public.t")
        now = scalar(conn, "SELECT now()")
    with pgtrickle_db.connect() as other:
        entry = st(other, "public.t")
        assert entry is not None
        assert entry["status"] == "ACTIVE"
        assert entry["is_populated"] is True
        assert entry["consecutive_errors"] == 0
        assert entry["last_refresh_at"] == now
        assert entry["data_timestamp"] == now
        assert entry["last_error_message"] is None
        assert content(other, "public.t") == query_result(other, SIMPLE_QUERY)
        initial, manual = history(other, "public.t")
        assert initial["initiated_by"] == "INITIAL"
        assert manual["initiated_by"] == "MANUAL"
        assert manual["status"] == "COMPLETED"
        assert manual["action"] == "DIFFERENTIAL"
        # pg_trickle src/refresh/merge/mod.rs, execute_differential_refresh returns
        # (rows the MERGE wrote, 0): two inserted and one deleted row are 3 "inserted".
        assert (manual["rows_inserted"], manual["rows_deleted"]) == (3, 0)
        assert manual["start_time"] == manual["end_time"] == now


def test_13_11_refresh_without_changes_keeps_data_timestamp(
    pgtrickle_db: TestDatabase, pgtrickle_conn: Conn
) -> None:
    make_source(pgtrickle_conn)
    create_st(pgtrickle_conn, "public.t", refresh_mode="DIFFERENTIAL")
    before = st(pgtrickle_conn, "public.t")
    assert before is not None
    refresh(pgtrickle_conn, "public.t")
    with pgtrickle_db.connect() as other:
        entry = st(other, "public.t")
        assert entry is not None
        assert entry["data_timestamp"] == before["data_timestamp"]
        assert entry["last_refresh_at"] > before["last_refresh_at"]
        manual = history(other, "public.t")[-1]
        assert (manual["initiated_by"], manual["status"], manual["action"]) == (
            "MANUAL", "COMPLETED", "DIFFERENTIAL"
        )  # fmt: skip
        assert (manual["rows_inserted"], manual["rows_deleted"]) == (0, 0)


def test_13_11_full_refresh_rewrites_and_moves_data_timestamp(
    pgtrickle_db: TestDatabase, pgtrickle_conn: Conn
) -> None:
    conn = pgtrickle_conn
    make_source(conn)
    create_st(conn, "public.t", refresh_mode="FULL")
    conn.execute("INSERT INTO src VALUES (4, 40)")
    with conn.transaction():
        refresh(conn, "public.t")
        now = scalar(conn, "SELECT now()")
    with pgtrickle_db.connect() as other:
        entry = st(other, "public.t")
        assert entry is not None
        assert entry["data_timestamp"] == entry["last_refresh_at"] == now
        assert content(other, "public.t") == query_result(other, SIMPLE_QUERY)
        manual = history(other, "public.t")[-1]
        assert (manual["initiated_by"], manual["status"], manual["action"]) == (
            "MANUAL", "COMPLETED", "FULL"
        )  # fmt: skip
        assert (manual["rows_inserted"], manual["rows_deleted"]) == (4, 0)


def test_13_11_aggregate_content_matches_query(
    pgtrickle_db: TestDatabase, pgtrickle_conn: Conn
) -> None:
    conn = pgtrickle_conn
    make_source(conn)
    query = "SELECT v % 20 AS grp, count(*) AS n, sum(id) AS s FROM src GROUP BY v % 20"
    create_st(conn, "public.t", query)
    conn.execute("INSERT INTO src VALUES (4, 40), (5, 55)")
    conn.execute("UPDATE src SET v = 11 WHERE id = 2")
    conn.execute("DELETE FROM src WHERE id = 1")
    refresh(conn, "public.t")
    with pgtrickle_db.connect() as other:
        assert content(other, "public.t") == query_result(other, query)


def test_13_11_initializing_table_refreshes_to_active(pgtrickle_conn: Conn) -> None:
    make_source(pgtrickle_conn)
    create_st(pgtrickle_conn, "public.t")
    call(pgtrickle_conn, "alter_stream_table", "public.t", status="INITIALIZING")
    refresh(pgtrickle_conn, "public.t")
    assert st(pgtrickle_conn, "public.t")["status"] == "ACTIVE"  # type: ignore[index]


def test_04_6_second_refresh_in_same_transaction_works(pgtrickle_conn: Conn) -> None:
    make_source(pgtrickle_conn)
    create_st(pgtrickle_conn, "public.t")
    with pgtrickle_conn.transaction():
        refresh(pgtrickle_conn, "public.t")
        pgtrickle_conn.execute("INSERT INTO src VALUES (9, 90)")
        refresh(pgtrickle_conn, "public.t")
        assert content(pgtrickle_conn, "public.t") == query_result(pgtrickle_conn, SIMPLE_QUERY)
    assert len(history(pgtrickle_conn, "public.t")) == 3


@pytest.mark.parametrize(
    ("name", "status", "message"),
    [
        (
            "public.t",
            "SUSPENDED",
            "invalid argument: stream table public.t is suspended ;"
            " use pgtrickle.resume_stream_table('t') first",
        ),
        (
            "public.t",
            "ERROR",
            "invalid argument: stream table public.t is in error state ;"
            " use pgtrickle.resume_stream_table('t') first",
        ),
        (
            "s1.t",
            "SUSPENDED",
            "invalid argument: stream table s1.t is suspended ;"
            " use pgtrickle.resume_stream_table('s1.t') first",
        ),
        (
            "s1.t",
            "ERROR",
            "invalid argument: stream table s1.t is in error state ;"
            " use pgtrickle.resume_stream_table('s1.t') first",
        ),
    ],
)
def test_13_12_refresh_of_suspended_or_error_fails(
    pgtrickle_db: TestDatabase, pgtrickle_conn: Conn, name: str, status: str, message: str
) -> None:
    pgtrickle_conn.execute("CREATE SCHEMA s1")
    make_source(pgtrickle_conn, "public.src")
    create_st(pgtrickle_conn, name, "SELECT id, v FROM public.src")
    call(pgtrickle_conn, "alter_stream_table", name, status=status)
    pgtrickle_conn.execute("INSERT INTO public.src VALUES (4, 40)")
    before = snapshot(pgtrickle_conn, name)
    with pytest.raises(psycopg.Error) as err:
        refresh(pgtrickle_conn, name)
    assert_pg_error(err.value, "22023", message)
    with pgtrickle_db.connect() as other:
        assert snapshot(other, name) == before


@pytest.mark.parametrize(
    ("name", "printed"), [("public.nope", "public.nope"), ("nope", "public.nope")]
)
def test_13_12_refresh_of_unknown_table(pgtrickle_conn: Conn, name: str, printed: str) -> None:
    with pytest.raises(psycopg.errors.UndefinedTable) as err:
        refresh(pgtrickle_conn, name)
    assert_pg_error(err.value, "42P01", f"stream table not found: {printed}")


@pytest.mark.parametrize("schema", ["public", "s1"])
def test_13_13_locked_refresh_skips_with_notice(
    pgtrickle_db: TestDatabase, pgtrickle_conn: Conn, schema: str
) -> None:
    pgtrickle_conn.execute("CREATE SCHEMA s1")
    make_source(pgtrickle_conn, "public.src")
    name = f"{schema}.t"
    create_st(pgtrickle_conn, name, "SELECT id, v FROM public.src")
    # Pending changes: a refresh that did run would change the content.
    pgtrickle_conn.execute("INSERT INTO public.src VALUES (4, 40)")
    with pgtrickle_db.connect() as observer:
        before = snapshot(observer, name)
    with pgtrickle_db.connect() as holder, pgtrickle_db.connect() as loser:
        holder.execute("BEGIN")
        refresh(holder, name)
        # Fail instead of hanging if the second refresh ever waits for the lock.
        loser.execute("SET statement_timeout = '20s'")
        with notices(loser) as seen:
            refresh(loser, name)
        with pgtrickle_db.connect() as observer:
            assert snapshot(observer, name) == before
        holder.execute("ROLLBACK")
    assert f"refresh skipped: {name} {EM_DASH} another refresh is already in progress" in (
        messages(seen, "NOTICE")
    )
    with pgtrickle_db.connect() as observer:
        assert snapshot(observer, name) == before


@pytest.mark.parametrize("mode", ["FULL", "DIFFERENTIAL"])
def test_13_14_failing_refresh_leaves_no_trace(
    pgtrickle_db: TestDatabase, pgtrickle_conn: Conn, mode: str
) -> None:
    conn = pgtrickle_conn
    conn.execute("CREATE TABLE src (id integer PRIMARY KEY, d integer)")
    conn.execute("INSERT INTO src VALUES (1, 1), (2, 2)")
    create_st(conn, "public.t", "SELECT id, 100 / d AS q FROM src", refresh_mode=mode)
    conn.execute("INSERT INTO src VALUES (3, 0)")
    with pgtrickle_db.connect() as other:
        before = snapshot(other, "public.t")
    with pytest.raises(psycopg.errors.DivisionByZero) as err:
        refresh(conn, "public.t")
    assert err.value.sqlstate == "22012"
    with pgtrickle_db.connect() as other:
        assert snapshot(other, "public.t") == before
        entry = st(other, "public.t")
        assert entry is not None
        assert (entry["status"], entry["consecutive_errors"]) == ("ACTIVE", 0)
        assert entry["last_error_message"] is None
        assert [h["status"] for h in history(other, "public.t")] == ["COMPLETED"]


def test_04_6_refresh_is_strict(pgtrickle_conn: Conn) -> None:
    make_source(pgtrickle_conn)
    create_st(pgtrickle_conn, "public.t")
    before = snapshot(pgtrickle_conn, "public.t")
    pgtrickle_conn.execute("SELECT pgtrickle.refresh_stream_table(NULL)")
    assert snapshot(pgtrickle_conn, "public.t") == before


@pytest.mark.parametrize("mode", ["FULL", "DIFFERENTIAL"])
def test_full_path_refresh_without_upstream_change_keeps_data_timestamp(
    pgtrickle_db: TestDatabase, pgtrickle_conn: Conn, mode: str
) -> None:
    """Mirrors pg_trickle src/api/refresh_ops.rs: execute_manual_full_refresh (reached from
    execute_manual_refresh; a DIFFERENTIAL table reading a stream table is sent there by
    execute_manual_differential_refresh). It moves data_timestamp only when an upstream stream
    table is newer, a table source's WAL position moved, or the frontier is empty; the
    frontier of a table reading only stream tables is empty right after create."""
    conn = pgtrickle_conn
    make_source(conn)
    create_st(conn, "public.up")
    create_st(conn, "public.down", "SELECT id, v FROM public.up", refresh_mode=mode)
    created = st(conn, "public.down")
    assert created is not None
    refresh(conn, "public.down")  # empty frontier: data_timestamp moves
    first = st(conn, "public.down")
    assert first is not None
    assert first["data_timestamp"] > created["data_timestamp"]
    refresh(conn, "public.down")  # nothing upstream is newer: kept
    with pgtrickle_db.connect() as other:
        second = st(other, "public.down")
        assert second is not None
        assert second["data_timestamp"] == first["data_timestamp"]
        assert second["last_refresh_at"] > first["last_refresh_at"]
    conn.execute("INSERT INTO src VALUES (4, 40)")
    refresh(conn, "public.up")
    refresh(conn, "public.down")  # the upstream is newer: moves
    with pgtrickle_db.connect() as other:
        third = st(other, "public.down")
        assert third is not None
        assert third["data_timestamp"] > second["data_timestamp"]
        assert content(other, "public.down") == query_result(other, SIMPLE_QUERY)


TOPK_QUERY = "SELECT id, v FROM src ORDER BY v DESC LIMIT 2"


def unconsumed_changes(conn: Conn, name: str) -> int:
    """Change-buffer rows of the table sources of `name` above its frontier (as pg_trickle
    names buffers: src/cdc/mod.rs, changes_<source_stable_name or oid>)."""
    found = 0
    buffers = conn.execute(
        "SELECT 'changes_' || coalesce(to_jsonb(ct) ->> 'source_stable_name',"
        " d.source_relid::text), coalesce((s.frontier -> 'sources' -> d.source_relid::text"
        " ->> 'lsn')::pg_lsn, '0/0')::text FROM pgtrickle.pgt_stream_tables s"
        " JOIN pgtrickle.pgt_dependencies d ON d.pgt_id = s.pgt_id AND d.source_type = 'TABLE'"
        " LEFT JOIN pgtrickle.pgt_change_tracking ct ON ct.source_relid = d.source_relid"
        " WHERE s.pgt_schema || '.' || s.pgt_name = %s",
        [name],
    ).fetchall()
    for buffer, seen in buffers:
        found += scalar(
            conn,
            sql.SQL("SELECT count(*) FROM {} WHERE lsn > %s::pg_lsn").format(
                sql.Identifier("pgtrickle_changes", buffer)
            ),
            [seen],
        )
    return found


def test_manual_topk_refresh_moves_no_catalog_timestamp_nor_frontier(
    pgtrickle_db: TestDatabase, pgtrickle_conn: Conn
) -> None:
    """Mirrors pg_trickle src/api/refresh_ops.rs: execute_manual_refresh (a TopK table takes
    src/refresh/merge/insert.rs, execute_topk_refresh: one MERGE of the ORDER BY ... LIMIT
    query) records the refresh in the history (action FULL) and writes effective_refresh_mode,
    but no last_refresh_at, data_timestamp or frontier; so the source's buffer rows stay."""
    conn = pgtrickle_conn
    make_source(conn)
    create_st(conn, "public.t", TOPK_QUERY, cdc_mode="trigger")
    with pgtrickle_db.connect() as other:
        before = st(other, "public.t")
        runs = len(history(other, "public.t"))
    assert before is not None
    conn.execute("INSERT INTO src VALUES (4, 40)")
    refresh(conn, "public.t")
    with pgtrickle_db.connect() as other:
        after = st(other, "public.t")
        assert after is not None
        for column in ("last_refresh_at", "data_timestamp", "frontier", "status", "is_populated"):
            assert after[column] == before[column], column
        assert after["effective_refresh_mode"] == "TOP_K"
        assert content(other, "public.t") == [(3, 30), (4, 40)]
        newest = history(other, "public.t")
        assert len(newest) == runs + 1
        latest = newest[-1]
        assert (latest["action"], latest["status"], latest["initiated_by"]) == (
            "FULL",
            "COMPLETED",
            "MANUAL",
        )
        assert latest["rows_inserted"] > 0
        assert unconsumed_changes(other, "public.t") >= 1
