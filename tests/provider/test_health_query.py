"""The health query reads only the catalog rows it was asked about.

A large catalog is simulated with catalog rows that have no storage table behind them (the
health query reads only `pgtrickle.pgt_stream_tables`, the newest refresh history rows newer
than each table's last_refresh_at, and for failing tables their last failure), each with refresh
history, so reading the whole catalog or aggregating the history of every table would show in
the counts. Rows read are counted with
`pg_stat_xact_user_tables` before and after the query, in one transaction (the backend
flushes those counters only between transactions).
"""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from airflow_provider_pgtrickle import _health
from airflow_provider_pgtrickle.capabilities import ReadPath, probe
from airflow_provider_pgtrickle.hooks.pgtrickle import PgTrickleHook
from airflow_provider_pgtrickle.types import StreamTableStatus

from .conftest import ORDERS_QUERY

pytestmark = pytest.mark.requires_double

BULK = 500


def fill_catalog(conn: psycopg.Connection[Any], count: int) -> None:
    """`count` healthy catalog rows in schema `bulk`, each with three history rows."""
    conn.execute(
        "INSERT INTO pgtrickle.pgt_stream_tables (pgt_relid, pgt_name, pgt_schema,"
        " defining_query, status, is_populated, last_refresh_at, data_timestamp)"
        " SELECT 3000000000 + i, 'st_' || i, 'bulk', 'SELECT 1', 'ACTIVE', true, now(), now()"
        " FROM generate_series(1, %s) AS i",
        [count],
    )
    conn.execute(
        "INSERT INTO pgtrickle.pgt_refresh_history (pgt_id, data_timestamp, start_time,"
        " end_time, action, status)"
        " SELECT st.pgt_id, now(), now(), now(), 'FULL', 'COMPLETED'"
        " FROM pgtrickle.pgt_stream_tables AS st, generate_series(1, 3)"
        " WHERE st.pgt_schema = 'bulk'"
    )
    conn.execute("ANALYZE pgtrickle.pgt_stream_tables")
    conn.execute("ANALYZE pgtrickle.pgt_refresh_history")


def rows_read(
    conn: psycopg.Connection[Any], names: list[str], schema: str | None = None
) -> tuple[list[Any], dict[str, int]]:
    """Run the health query; return its rows and the rows it read per catalog table."""
    query, params = _health.health_query(names, schema)
    counters = (
        "SELECT relname, coalesce(seq_tup_read, 0) + coalesce(idx_tup_fetch, 0)"
        " FROM pg_stat_xact_user_tables WHERE schemaname = 'pgtrickle'"
        " AND relname IN ('pgt_stream_tables', 'pgt_refresh_history')"
    )
    with conn.transaction():
        before = dict(conn.execute(counters).fetchall())
        rows = conn.execute(query, params).fetchall()
        after = dict(conn.execute(counters).fetchall())
    return rows, {name: int(after[name]) - int(before.get(name, 0)) for name in after}


def test_health_rows_read_follow_the_names_asked_for_not_the_catalog(
    admin_conn: psycopg.Connection[Any], hook: PgTrickleHook, orders: str
) -> None:
    """The catalog path (`ReadPath.CATALOG`, pg_trickle 0.67.0), run as the superuser so it
    can be measured on any version (0.108.3 grants the catalog to no role)."""
    pgtrickle_conn = admin_conn
    hook.create_stream_table("public.order_totals", ORDERS_QUERY)
    hook.create_stream_table("public.broken", ORDERS_QUERY)
    hook.alter_stream_table("public.broken", status="ERROR")
    fill_catalog(pgtrickle_conn, BULK)

    rows, read = rows_read(pgtrickle_conn, ["public.order_totals"])
    assert [(r[0], r[1]) for r in rows] == [("public", "order_totals")]
    # One index probe; a healthy table needs no history.
    assert read == {"pgt_stream_tables": 1, "pgt_refresh_history": 0}

    names = ["public.order_totals", "public.broken", "bulk.st_7", "bulk.st_400", "nope.x"]
    rows, read = rows_read(pgtrickle_conn, names)
    health = _health.rows_to_health(rows)
    # In the order asked for.
    assert [h.qualified_name for h in health] == names[:4]
    assert health[1].status is StreamTableStatus.ERROR
    # Four rows found of five names. The history is read newest first and only where it is
    # newer than last_refresh_at (refreshes that write no catalog timestamp, vocabulary.health):
    # here one row for each `bulk` table (their history was written after their catalog row)
    # and the failing table's error probe: at most one row per table found.
    assert read["pgt_stream_tables"] == 4
    assert read["pgt_refresh_history"] <= 4

    # A name not in the catalog comes back as a row judged `missing` (vocabulary.health).
    assert [(r[0], r[1], r[11]) for r in rows][-1] == ("nope", "x", "missing")

    # A long list is one join (the planner may hash it against a scan); same rows.
    many = [f"bulk.st_{i}" for i in range(BULK, 0, -5)] + ["public.broken", "nope.y"]
    rows, _ = rows_read(pgtrickle_conn, many)
    assert [f"{r[0]}.{r[1]}" for r in rows] == many
    assert [r[11] for r in rows][-2:] == ["failed", "missing"]

    rows, read = rows_read(pgtrickle_conn, [], "public")
    assert len(rows) == 2
    assert read["pgt_stream_tables"] == 2


def test_the_read_function_path_calls_each_function_once_per_query(
    admin_conn: psycopg.Connection[Any], hook: PgTrickleHook, orders: str
) -> None:
    """`ReadPath.FUNCTIONS` (0.96.0 and later): one call of each whole-catalog read function
    per health query, however many names are asked for, and one history call per table
    found (pg_stat_xact_user_functions, with track_functions = 'all')."""
    if probe(admin_conn).read_path is not ReadPath.FUNCTIONS:
        pytest.skip("this server is read through its catalog (pg_trickle 0.67.0)")
    hook.create_stream_table("public.order_totals", ORDERS_QUERY)
    hook.create_stream_table("public.broken", ORDERS_QUERY)
    hook.alter_stream_table("public.broken", status="ERROR")
    fill_catalog(admin_conn, 50)
    names = ["public.order_totals", "public.broken", "bulk.st_7", "bulk.st_40", "nope.x"]
    query, params = _health.health_query(names, None, read_path=ReadPath.FUNCTIONS)
    counters = (
        "SELECT funcname, calls FROM pg_stat_xact_user_functions WHERE schemaname = 'pgtrickle'"
        " AND funcname IN ('st_refresh_stats', 'pgt_status', 'fuse_status',"
        " 'get_refresh_history')"
    )
    with admin_conn.transaction():
        admin_conn.execute("SET LOCAL track_functions = 'all'")
        rows = admin_conn.execute(query, params).fetchall()
        calls = {str(n): int(c) for n, c in admin_conn.execute(counters).fetchall()}
    assert [f"{r[0]}.{r[1]}" for r in rows] == names
    assert [r[11] for r in rows] == ["healthy", "failed", "healthy", "healthy", "missing"]
    assert calls["st_refresh_stats"] == calls["pgt_status"] == calls["fuse_status"] == 1
    # The last completed refresh of each table found, plus the failing table's last error.
    assert calls["get_refresh_history"] <= 4 + 1, calls
