"""pg_trickle sql/archive/pg_trickle--0.67.0.sql: monitoring views, their exact columns and
formulas."""

from __future__ import annotations

import datetime as dt
import time

import pytest

from airflow_provider_pgtrickle.testing.server import TestDatabase

from ._helpers import (
    Conn,
    Row,
    allowed_cdc_modes,
    call,
    create_st,
    make_source,
    row,
    rows,
    scalar,
    set_catalog,
)
from ._versions import V0108, V067, expected

PG_STAT_COLUMNS = [
    ("pgt_id", "bigint"),
    ("pgt_schema", "text"),
    ("pgt_name", "text"),
    ("status", "text"),
    ("refresh_mode", "text"),
    ("is_populated", "boolean"),
    ("data_timestamp", "timestamp with time zone"),
    ("schedule", "text"),
    ("staleness", "interval"),
    ("stale", "boolean"),
    ("consecutive_errors", "integer"),
    ("needs_reinit", "boolean"),
    ("last_refresh_at", "timestamp with time zone"),
    ("total_refreshes", "bigint"),
    ("successful_refreshes", "bigint"),
    ("failed_refreshes", "bigint"),
    ("total_rows_inserted", "bigint"),
    ("total_rows_deleted", "bigint"),
    ("avg_duration_ms", "double precision"),
    ("last_action", "text"),
    ("last_status", "text"),
    ("cdc_modes", "text[]"),
    ("scc_id", "integer"),
    ("last_fixpoint_iterations", "integer"),
    ("refresh_tier", "text"),
]

# Per version: 0.67.0 sql/archive/pg_trickle--0.67.0.sql (view pg_stat_stream_tables);
# 0.108.3 sql/archive/pg_trickle--0.108.3.sql, the same view with total_rows_updated between
# total_rows_inserted and total_rows_deleted (history gained rows_updated in 0.82.0).
PG_STAT_COLUMNS_BY_VERSION = {
    V067: PG_STAT_COLUMNS,
    V0108: [
        *PG_STAT_COLUMNS[:17],
        ("total_rows_updated", "bigint"),
        *PG_STAT_COLUMNS[17:],
    ],
}

QUICK_HEALTH_COLUMNS = [
    ("total_stream_tables", "bigint"),
    ("error_tables", "bigint"),
    ("stale_tables", "bigint"),
    ("scheduler_running", "boolean"),
    ("status", "text"),
]


def columns(conn: Conn, relation: str) -> list[tuple[str, str]]:
    """(name, type) in attribute order, types spelled by format_type."""
    return [
        (r["attname"], r["type"])
        for r in rows(
            conn,
            "SELECT attname, format_type(atttypid, NULL) AS type FROM pg_attribute"
            " WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
            [relation],
        )
    ]


def view_row(conn: Conn, name: str) -> dict[str, object]:
    found = row(conn, "SELECT * FROM pgtrickle.pg_stat_stream_tables WHERE pgt_name = %s", [name])
    assert found is not None
    return found


def test_13_19_pg_stat_stream_tables_columns(pgtrickle_conn: Conn, pgtrickle_version: str) -> None:
    want = expected(pgtrickle_version, PG_STAT_COLUMNS_BY_VERSION)
    assert columns(pgtrickle_conn, "pgtrickle.pg_stat_stream_tables") == want
    cur = pgtrickle_conn.execute("SELECT * FROM pgtrickle.pg_stat_stream_tables LIMIT 0")
    assert [d.name for d in cur.description or []] == [name for name, _ in want]


def test_13_19_stream_tables_info_columns(pgtrickle_conn: Conn) -> None:
    catalog = columns(pgtrickle_conn, "pgtrickle.pgt_stream_tables")
    assert columns(pgtrickle_conn, "pgtrickle.stream_tables_info") == [
        *catalog,
        ("staleness", "interval"),
        ("stale", "boolean"),
        ("is_topk", "boolean"),
    ]


def test_13_19_quick_health_columns(pgtrickle_conn: Conn) -> None:
    assert columns(pgtrickle_conn, "pgtrickle.quick_health") == QUICK_HEALTH_COLUMNS


def test_13_19_statistics_formulas(pgtrickle_db: TestDatabase, pgtrickle_conn: Conn) -> None:
    make_source(pgtrickle_conn)
    create_st(pgtrickle_conn, "public.t", refresh_mode="DIFFERENTIAL")
    pgtrickle_conn.execute("INSERT INTO src VALUES (4, 40), (5, 50)")
    call(pgtrickle_conn, "refresh_stream_table", "public.t")
    with pgtrickle_db.connect() as other:
        found = view_row(other, "t")
        entry = row(other, "SELECT * FROM pgtrickle.pgt_stream_tables WHERE pgt_name = 't'")
        assert entry is not None
        for column in (
            "pgt_id",
            "pgt_schema",
            "status",
            "refresh_mode",
            "is_populated",
            "data_timestamp",
            "schedule",
            "consecutive_errors",
            "needs_reinit",
            "last_refresh_at",
            "scc_id",
            "last_fixpoint_iterations",
            "refresh_tier",
        ):
            assert found[column] == entry[column], column
        assert found["total_refreshes"] == 2
        assert found["successful_refreshes"] == 2
        assert found["failed_refreshes"] == 0
        assert found["total_rows_inserted"] == 2
        assert found["total_rows_deleted"] == 0
        # Manual and initial runs stamp start and end with the transaction time.
        assert found["avg_duration_ms"] == 0
        assert (found["last_action"], found["last_status"]) == ("DIFFERENTIAL", "COMPLETED")
        assert found["stale"] is False
        assert isinstance(found["staleness"], dt.timedelta)
        assert found["staleness"] >= dt.timedelta(0)
        cdc = found["cdc_modes"]
        assert isinstance(cdc, list)
        assert len(cdc) == 1
        assert set(cdc) <= allowed_cdc_modes(other)


def test_13_19_statistics_without_history(pgtrickle_conn: Conn) -> None:
    make_source(pgtrickle_conn)
    # Inside one transaction: a running scheduler would populate the table after commit.
    with pgtrickle_conn.transaction():
        create_st(pgtrickle_conn, "public.t", initialize=False)
        found = view_row(pgtrickle_conn, "t")
        assert (found["total_refreshes"], found["successful_refreshes"]) == (0, 0)
        assert found["failed_refreshes"] == 0
        assert (found["total_rows_inserted"], found["total_rows_deleted"]) == (0, 0)
        assert found["avg_duration_ms"] is None
        assert (found["last_action"], found["last_status"]) == (None, None)
        assert (found["staleness"], found["stale"]) == (None, None)


def test_13_19_cdc_modes_null_without_table_sources(pgtrickle_conn: Conn) -> None:
    make_source(pgtrickle_conn)
    create_st(pgtrickle_conn, "public.a")
    create_st(pgtrickle_conn, "public.b", "SELECT id, v FROM public.a")
    assert view_row(pgtrickle_conn, "b")["cdc_modes"] is None


def test_13_19_cdc_modes_sorted_distinct(pgtrickle_conn: Conn) -> None:
    make_source(pgtrickle_conn, "public.src")
    make_source(pgtrickle_conn, "public.src2")
    create_st(
        pgtrickle_conn,
        "public.t",
        "SELECT s.id, s.v, o.v AS w FROM src s JOIN src2 o ON o.id = s.id",
    )
    cdc = view_row(pgtrickle_conn, "t")["cdc_modes"]
    assert isinstance(cdc, list)
    assert cdc == sorted(set(cdc))
    assert set(cdc) <= allowed_cdc_modes(pgtrickle_conn)


@pytest.mark.parametrize(
    ("schedule", "mode"),
    [
        ("@hourly", "DIFFERENTIAL"),
        ("*/5 * * * *", "DIFFERENTIAL"),
        ("0 0 * * * *", "DIFFERENTIAL"),
        ("calculated", "DIFFERENTIAL"),
        ("1h", "IMMEDIATE"),
    ],
)
def test_13_19_stale_is_null_without_a_duration(
    pgtrickle_conn: Conn, schedule: str, mode: str
) -> None:
    make_source(pgtrickle_conn)
    create_st(pgtrickle_conn, "public.t", schedule=schedule, refresh_mode=mode)
    assert view_row(pgtrickle_conn, "t")["stale"] is None
    info = row(pgtrickle_conn, "SELECT stale FROM pgtrickle.stream_tables_info")
    assert info == {"stale": None}


def quick_health(db: TestDatabase) -> list[Row]:
    """pgtrickle.quick_health, read as the role that created the extension: pg_trickle 0.67.0
    grants the view to no one (install script) and the product never reads it, so the
    least-privilege role of PGTRICKLE_TEST_ROLE=least may not; its rows do not depend on the
    reader."""
    with db.admin_connect() as admin:
        return rows(admin, "SELECT * FROM pgtrickle.quick_health")


def test_13_19_stale_false_for_fresh_duration(
    pgtrickle_db: TestDatabase, pgtrickle_conn: Conn
) -> None:
    make_source(pgtrickle_conn)
    create_st(pgtrickle_conn, "public.t", schedule="1h")
    assert view_row(pgtrickle_conn, "t")["stale"] is False
    info = row(pgtrickle_conn, "SELECT stale, is_topk FROM pgtrickle.stream_tables_info")
    assert info == {"stale": False, "is_topk": False}
    (health,) = quick_health(pgtrickle_db)
    assert (health["stale_tables"], health["status"]) == (0, "OK")


def test_13_19_stale_true_once_duration_elapsed(
    pgtrickle_db: TestDatabase, pgtrickle_conn: Conn
) -> None:
    make_source(pgtrickle_conn)
    create_st(pgtrickle_conn, "public.t", schedule="1s")
    # A running scheduler would refresh a 1 s table; it skips populated `frozen` ones, and the
    # views ignore tier multipliers.
    call(pgtrickle_conn, "alter_stream_table", "public.t", tier="frozen")
    time.sleep(1.2)
    found = view_row(pgtrickle_conn, "t")
    assert found["stale"] is True
    assert isinstance(found["staleness"], dt.timedelta)
    assert found["staleness"] > dt.timedelta(seconds=1)
    assert row(pgtrickle_conn, "SELECT stale FROM pgtrickle.stream_tables_info") == {"stale": True}
    (health,) = quick_health(pgtrickle_db)
    assert (health["stale_tables"], health["error_tables"], health["status"]) == (
        1, 0, "WARNING"
    )  # fmt: skip
    checks = {
        r["check_name"]: r["severity"]
        for r in rows(pgtrickle_conn, "SELECT * FROM pgtrickle.health_check()")
    }
    assert checks["stale_tables"] == "WARN"


def test_13_19_quick_health_empty(pgtrickle_db: TestDatabase, pgtrickle_conn: Conn) -> None:
    health = quick_health(pgtrickle_db)
    assert len(health) == 1
    assert (health[0]["total_stream_tables"], health[0]["error_tables"]) == (0, 0)
    assert (health[0]["stale_tables"], health[0]["status"]) == (0, "EMPTY")
    assert isinstance(health[0]["scheduler_running"], bool)
    if pgtrickle_db.is_double:
        assert health[0]["scheduler_running"] is False


def test_13_19_quick_health_precedence(pgtrickle_db: TestDatabase, pgtrickle_conn: Conn) -> None:
    conn = pgtrickle_conn
    make_source(conn)
    for name in ("a", "b", "c"):
        create_st(conn, f"public.{name}")

    def health() -> tuple[object, ...]:
        (found,) = quick_health(pgtrickle_db)
        return found["total_stream_tables"], found["error_tables"], found["status"]

    assert health() == (3, 0, "OK")
    call(conn, "alter_stream_table", "public.a", status="ERROR")
    assert health() == (3, 1, "WARNING")
    set_catalog(conn, "public.b", {"consecutive_errors": 1})
    assert health() == (3, 2, "WARNING")
    call(conn, "alter_stream_table", "public.c", status="SUSPENDED")
    assert health() == (3, 2, "CRITICAL")
    assert scalar(conn, "SELECT count(*) FROM pgtrickle.pg_stat_stream_tables") == 3
