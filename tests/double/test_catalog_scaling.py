"""The double's create and refresh leave nothing in the session that grows with the catalog.

A session that creates or refreshes many stream tables (a dbt run over a large project) must
not accumulate per-table state: PL/pgSQL compiles a trigger function once per trigger and
session and keeps its plans, and PostgreSQL walks every cached plan on each later DDL, so
compiling each storage table's guard function made every create slower than the previous
one (bench/bench_double.py measures the times; these tests count the causes).
"""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

pytestmark = pytest.mark.requires_double

COMPILED = "SELECT count(*) FROM pg_backend_memory_contexts WHERE name = 'PL/pgSQL function'"


def _create(conn: psycopg.Connection[Any], i: int) -> None:
    conn.execute(f"CREATE TABLE src_{i} (id integer PRIMARY KEY, v integer)")
    conn.execute(f"INSERT INTO src_{i} SELECT g, g FROM generate_series(1, 20) g")
    conn.execute(
        "SELECT pgtrickle.create_stream_table(%s, %s, schedule => '1h', refresh_mode => 'FULL')",
        [f"public.st_{i}", f"SELECT id, v FROM src_{i}"],
    )


def test_refresh_writes_rows_without_calling_the_guard_function(
    pgtrickle_conn: psycopg.Connection[Any],
) -> None:
    conn = pgtrickle_conn
    _create(conn, 0)
    conn.execute("SET track_functions = 'pl'")
    with conn.transaction():
        conn.execute("UPDATE src_0 SET v = v + 1")
        conn.execute("SELECT pgtrickle.refresh_stream_table('public.st_0')")
        written = conn.execute(
            "SELECT rows_inserted + rows_deleted FROM pgtrickle.pgt_refresh_history"
            " ORDER BY refresh_id DESC LIMIT 1"
        ).fetchone()
        calls = conn.execute(
            "SELECT coalesce(sum(calls), 0) FROM pg_stat_xact_user_functions"
            " WHERE funcname LIKE '\\_pgt\\_guard\\_%'"
        ).fetchone()
    assert written is not None
    assert written[0] >= 20
    assert calls == (0,)


def test_creating_stream_tables_compiles_nothing_per_table(
    pgtrickle_conn: psycopg.Connection[Any],
) -> None:
    conn = pgtrickle_conn
    # Warm up: the double's own functions are compiled once per session.
    for i in range(2):
        _create(conn, i)
        conn.execute(f"SELECT pgtrickle.refresh_stream_table('public.st_{i}')")
    before = conn.execute(COMPILED).fetchone()
    for i in range(2, 22):
        _create(conn, i)
        conn.execute(f"SELECT pgtrickle.refresh_stream_table('public.st_{i}')")
    assert conn.execute(COMPILED).fetchone() == before
