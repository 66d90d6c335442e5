"""A model run reads the pg_trickle catalog for its own table only.

The catalog is padded with stream table rows that have no storage behind them, chained by
dependencies, so any statement that walks the whole catalog or its dependency graph reads
hundreds of rows. Every catalog read dbt sent is taken from the server's statement log and
run again in one transaction between two reads of `pg_stat_xact_user_tables`, which counts
the rows it read.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from airflow_provider_pgtrickle.testing.pytest_plugin import StatementLog
from airflow_provider_pgtrickle.testing.server import TestDatabase, TestServer

from ._project import DbtProject

# Steps on one module-scoped project: the cost of an unchanged run is measured before the
# full refresh adds history rows (the `story` marker keeps file order under random order).
pytestmark = [pytest.mark.slow, pytest.mark.requires_double, pytest.mark.story]

MODELS = ("order_totals", "customer_orders")  # customer_orders reads order_totals
PADDING = 400
CATALOG_TABLES = ("pgt_stream_tables", "pgt_dependencies", "pgt_refresh_history")


@pytest.fixture(scope="module")
def db(pgtrickle_server: TestServer) -> Iterator[TestDatabase]:
    with pgtrickle_server.fresh_database() as database:
        # the role order_totals' `grants` names; creating roles is an administrator's job
        with database.admin_connect() as conn:
            conn.execute(
                "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname ="
                " 'pgtrickle_it_reader') THEN CREATE ROLE pgtrickle_it_reader; END IF; END $$"
            )
        yield database


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory, db: TestDatabase) -> DbtProject:
    proj = DbtProject.create(tmp_path_factory.mktemp("dbt_cost"), db.dbt_env())
    proj.dbt("deps")
    proj.dbt("seed", "-s", "orders", "customers")
    proj.dbt("run", "-s", *MODELS)
    return proj


@pytest.fixture(scope="module")
def log(pgtrickle_server: TestServer, db: TestDatabase) -> StatementLog:
    assert pgtrickle_server.log_path is not None
    return StatementLog(Path(pgtrickle_server.log_path), db.dbname)


def pad_catalog(conn: psycopg.Connection[Any]) -> None:
    """PADDING catalog rows in schema `bulk`, each reading the one before it."""
    conn.execute(
        "INSERT INTO pgtrickle.pgt_stream_tables (pgt_relid, pgt_name, pgt_schema,"
        " defining_query, status, is_populated, last_refresh_at, data_timestamp)"
        " SELECT 3000000000 + i, 'st_' || i, 'bulk', 'SELECT 1', 'ACTIVE', true, now(), now()"
        " FROM generate_series(1, %s) AS i",
        [PADDING],
    )
    conn.execute(
        "INSERT INTO pgtrickle.pgt_dependencies (pgt_id, source_relid, source_type)"
        " SELECT st.pgt_id, (st.pgt_relid::bigint - 1)::oid, 'STREAM_TABLE'"
        " FROM pgtrickle.pgt_stream_tables st"
        " WHERE st.pgt_schema = 'bulk' AND st.pgt_name <> 'st_1'"
    )
    for table in CATALOG_TABLES:
        conn.execute(f"ANALYZE pgtrickle.{table}")


def catalog_reads(log: StatementLog) -> list[str]:
    return [stmt for stmt in log.statements() if "pgtrickle.pgt_" in stmt]


def rows_read(conn: psycopg.Connection[Any], statement: str) -> int:
    """Rows `statement` reads from the catalog tables."""
    counters = (
        "SELECT coalesce(sum(coalesce(seq_tup_read, 0) + coalesce(idx_tup_fetch, 0)), 0)"
        " FROM pg_stat_xact_user_tables WHERE schemaname = 'pgtrickle'"
        " AND relname = ANY(%s)"
    )
    with conn.transaction():
        before = conn.execute(counters, [list(CATALOG_TABLES)]).fetchone()
        conn.execute(statement).fetchall()
        after = conn.execute(counters, [list(CATALOG_TABLES)]).fetchone()
    assert before is not None
    assert after is not None
    return int(after[0]) - int(before[0])


def test_an_unchanged_run_reads_each_models_own_catalog_rows_only(
    project: DbtProject, db: TestDatabase, log: StatementLog
) -> None:
    # The catalog is written and the statements re-run as the superuser: pg_trickle 0.96+
    # grants other roles no access to it.
    with db.admin_connect() as conn:
        pad_catalog(conn)
        [(reads_catalog,)] = conn.execute(
            "select has_table_privilege(%s, 'pgtrickle.pgt_stream_tables', 'select')", [db.user]
        ).fetchall()
    log.mark()

    run = project.dbt("run", "-s", *MODELS)

    assert run.messages() == dict.fromkeys(MODELS, "unchanged")
    reads = catalog_reads(log)
    with db.admin_connect(autocommit=True) as conn:
        read = [rows_read(conn, stmt) for stmt in reads]
    # One describe per model, no dependency walk.
    assert len(reads) == len(MODELS), reads
    assert not any("recursive" in stmt for stmt in reads)
    if reads_catalog:
        # Its catalog row, an index probe for dependents, its newest history row: a handful of
        # rows per model, where walking the padded catalog reads hundreds.
        assert all(n <= 4 for n in read), read
    else:
        # Through the read functions: pgt_status() and fuse_status() return every stream table
        # (no granted function reports one table's status), so each describe scans the
        # catalog twice and nothing more: no history beyond its newest row, no sources.
        # (a walk of the padded dependency chain would read it over and over: far more)
        assert all(n <= 3 * (PADDING + len(MODELS)) for n in read), read
        assert not any("list_sources" in stmt for stmt in reads), reads


def test_a_full_refresh_rebuilds_in_place_without_walking_the_dependencies(
    project: DbtProject, db: TestDatabase, log: StatementLog
) -> None:
    log.mark()

    run = project.dbt("run", "--full-refresh", "-s", *MODELS)

    messages = run.messages()
    assert messages["order_totals"] == "refreshed in place (full refresh)"
    # nothing is dropped, so no dependent needs to be found
    walks = [stmt for stmt in catalog_reads(log) if "recursive" in stmt]
    assert walks == []
