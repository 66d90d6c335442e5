"""pg_trickle src/monitor/health.rs, src/monitor/mod.rs: health_check, check_cdc_health,
change_buffer_sizes, pgt_status, get_refresh_history."""

from __future__ import annotations

import pytest
from psycopg import sql

from airflow_provider_pgtrickle.testing.server import TestDatabase

from ._helpers import (
    Conn,
    allowed_cdc_modes,
    call,
    create_st,
    make_source,
    rows,
    scalar,
    set_catalog,
)
from ._versions import V0108, V067, expected


def expected_check_names(conn: Conn) -> list[str]:
    parallel = scalar(conn, "SELECT current_setting('pg_trickle.parallel_refresh_mode', true)")
    pool = ["worker_pool", "job_queue"] if parallel != "off" else []
    return [
        "scheduler_running",
        "error_tables",
        "stale_tables",
        "needs_reinit",
        "consecutive_errors",
        "buffer_growth",
        "slot_lag",
        *pool,
        "attachment_owner_check",
    ]


def health(conn: Conn) -> list[dict[str, object]]:
    return rows(conn, "SELECT * FROM pgtrickle.health_check()")


def test_13_20_health_check_rows_in_order(pgtrickle_db: TestDatabase, pgtrickle_conn: Conn) -> None:
    make_source(pgtrickle_conn)
    create_st(pgtrickle_conn, "public.t")
    found = health(pgtrickle_conn)
    assert list(found[0]) == ["check_name", "severity", "detail"]
    assert [r["check_name"] for r in found] == expected_check_names(pgtrickle_conn)
    severities = {r["check_name"]: r["severity"] for r in found}
    assert set(severities.values()) <= {"OK", "WARN", "ERROR", "WARNING"}
    for name in (
        "error_tables",
        "stale_tables",
        "needs_reinit",
        "consecutive_errors",
        "buffer_growth",
        "slot_lag",
        "attachment_owner_check",
    ):
        assert severities[name] == "OK", name
    if pgtrickle_db.is_double:
        # Without shared_preload_libraries there is neither launcher nor scheduler.
        assert severities["scheduler_running"] == "ERROR"


def test_13_20_health_check_on_empty_database(
    pgtrickle_db: TestDatabase, pgtrickle_conn: Conn
) -> None:
    found = health(pgtrickle_conn)
    assert [r["check_name"] for r in found] == expected_check_names(pgtrickle_conn)
    if pgtrickle_db.is_double:
        assert found[0]["severity"] == "ERROR"


def test_13_20_health_check_reports_problem_tables(pgtrickle_conn: Conn) -> None:
    conn = pgtrickle_conn
    make_source(conn)
    for name in ("a", "b", "c", "d"):
        create_st(conn, f"public.{name}")
    call(conn, "alter_stream_table", "public.a", status="ERROR")
    call(conn, "alter_stream_table", "public.b", status="SUSPENDED")
    set_catalog(conn, "public.c", {"consecutive_errors": 1})
    set_catalog(conn, "public.d", {"needs_reinit": True})
    found = {r["check_name"]: r for r in health(conn)}
    assert found["error_tables"]["severity"] == "ERROR"
    detail = str(found["error_tables"]["detail"])
    prefix = "2 stream table(s) in ERROR/SUSPENDED: "
    assert detail.startswith(prefix), detail
    listed = [part.split(".")[-1] for part in detail[len(prefix) :].split(", ")]
    assert sorted(listed) == ["a", "b"]
    assert found["consecutive_errors"]["severity"] == "WARN"
    assert found["needs_reinit"]["severity"] == "WARN"


def test_13_20_check_cdc_health_one_row_per_table_source(pgtrickle_conn: Conn) -> None:
    conn = pgtrickle_conn
    make_source(conn, "public.src")
    make_source(conn, "public.src2")
    create_st(conn, "public.a")
    create_st(conn, "public.b", "SELECT s.id, o.v FROM src s JOIN src2 o ON o.id = s.id")
    create_st(conn, "public.c", "SELECT id, v FROM public.a")
    found = rows(conn, "SELECT * FROM pgtrickle.check_cdc_health() ORDER BY source_relid")
    assert list(found[0]) == [
        "source_relid", "source_table", "cdc_mode", "slot_name", "lag_bytes", "confirmed_lsn",
        "alert", "selective_capture",
    ]  # fmt: skip
    expected = rows(
        conn,
        "SELECT oid::bigint AS relid, oid::regclass::text AS name FROM pg_class"
        " WHERE oid IN ('public.src'::regclass, 'public.src2'::regclass) ORDER BY oid",
    )
    assert [(r["source_relid"], r["source_table"]) for r in found] == [
        (e["relid"], e["name"]) for e in expected
    ]
    for entry in found:
        assert entry["cdc_mode"] in allowed_cdc_modes(conn)
        assert entry["alert"] is None
        if entry["cdc_mode"] == "TRIGGER":
            assert (entry["slot_name"], entry["lag_bytes"], entry["confirmed_lsn"]) == (
                None, None, None
            )  # fmt: skip


def test_13_20_change_buffer_sizes_one_row_per_dependency(pgtrickle_conn: Conn) -> None:
    conn = pgtrickle_conn
    make_source(conn, "public.src")
    make_source(conn, "public.src2")
    create_st(conn, "public.b", "SELECT s.id, o.v FROM src s JOIN src2 o ON o.id = s.id")
    create_st(conn, "public.a")
    create_st(conn, "public.c", "SELECT id, v FROM public.a")
    conn.execute("INSERT INTO src VALUES (4, 40)")
    found = rows(conn, "SELECT * FROM pgtrickle.change_buffer_sizes()")
    assert list(found[0]) == [
        "stream_table", "source_table", "source_oid", "cdc_mode", "pending_rows", "buffer_bytes",
    ]  # fmt: skip
    assert [(r["stream_table"], r["source_table"]) for r in found] == [
        ("public.a", "public.src"),
        ("public.b", "public.src"),
        ("public.b", "public.src2"),
        ("public.c", "public.a"),
    ]
    assert found[0]["source_oid"] == scalar(conn, "SELECT 'public.src'::regclass::oid::bigint")
    for entry in found:
        assert isinstance(entry["pending_rows"], int)
        assert entry["pending_rows"] >= 0


def test_08_pgt_status(pgtrickle_conn: Conn) -> None:
    conn = pgtrickle_conn
    conn.execute("CREATE SCHEMA s1")
    make_source(conn, "public.src")
    create_st(conn, "s1.a", "SELECT id, v FROM public.src", schedule="5m")
    create_st(conn, "public.b", "SELECT id, v FROM public.src", refresh_mode="FULL")
    with conn.transaction():
        found = rows(conn, "SELECT * FROM pgtrickle.pgt_status()")
        expected = rows(
            conn,
            "SELECT pgt_schema || '.' || pgt_name AS name, status, refresh_mode, is_populated,"
            " consecutive_errors, schedule, data_timestamp, now() - data_timestamp AS staleness,"
            " scc_id FROM pgtrickle.pgt_stream_tables ORDER BY pgt_schema, pgt_name",
        )
    assert found == expected
    assert [r["name"] for r in found] == ["public.b", "s1.a"]


# get_refresh_history's result columns per version: 0.67.0 src/monitor/mod.rs
# get_refresh_history (RETURNS TABLE in sql/archive/pg_trickle--0.67.0.sql); 0.108.3 the same
# function in sql/archive/pg_trickle--0.108.3.sql: rows_updated between rows_inserted and
# rows_deleted (0.82.0), refresh_reason and refresh_reason_detail at the end.
_HISTORY_HEAD = ["refresh_id", "data_timestamp", "start_time", "end_time", "action", "status"]
HISTORY_COLUMNS = {
    V067: [*_HISTORY_HEAD, "rows_inserted", "rows_deleted", "duration_ms", "error_message"],
    V0108: [
        *_HISTORY_HEAD, "rows_inserted", "rows_updated", "rows_deleted", "duration_ms",
        "error_message", "refresh_reason", "refresh_reason_detail",
    ],
}  # fmt: skip


def test_08_get_refresh_history(pgtrickle_conn: Conn, pgtrickle_version: str) -> None:
    make_source(pgtrickle_conn)
    create_st(pgtrickle_conn, "public.t")
    pgtrickle_conn.execute("INSERT INTO src VALUES (4, 40)")
    call(pgtrickle_conn, "refresh_stream_table", "public.t")
    found = rows(pgtrickle_conn, "SELECT * FROM pgtrickle.get_refresh_history('public.t')")
    assert list(found[0]) == expected(pgtrickle_version, HISTORY_COLUMNS)
    assert [r["action"] for r in found] == ["DIFFERENTIAL", "FULL"]
    assert found[0]["refresh_id"] > found[1]["refresh_id"]
    assert found[0]["duration_ms"] == 0
    limited = rows(pgtrickle_conn, "SELECT * FROM pgtrickle.get_refresh_history('public.t', 1)")
    assert [r["refresh_id"] for r in limited] == [found[0]["refresh_id"]]
    assert rows(pgtrickle_conn, "SELECT * FROM pgtrickle.get_refresh_history('public.nope')") == []


@pytest.mark.parametrize("function", ["health_check", "check_cdc_health", "change_buffer_sizes"])
def test_13_20_functions_work_on_empty_database(pgtrickle_conn: Conn, function: str) -> None:
    query = sql.SQL("SELECT * FROM pgtrickle.{}()").format(sql.Identifier(function))
    found = rows(pgtrickle_conn, query)
    if function != "health_check":
        assert found == []
