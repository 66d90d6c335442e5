"""Fixtures for the provider tests: a hook on the test database and a small source table."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from airflow_provider_pgtrickle.hooks.pgtrickle import PgTrickleHook
from airflow_provider_pgtrickle.testing.pytest_plugin import StatementLog
from airflow_provider_pgtrickle.testing.server import TestDatabase

ORDERS_QUERY = (
    "SELECT customer_id, sum(amount) AS total, count(*) AS n FROM public.orders "
    "GROUP BY customer_id"
)


@pytest.fixture
def hook(pgtrickle_airflow_conn: str) -> PgTrickleHook:
    return PgTrickleHook(postgres_conn_id=pgtrickle_airflow_conn)


@pytest.fixture
def admin_conn(pgtrickle_db: TestDatabase) -> Iterator[psycopg.Connection[Any]]:
    """A superuser connection to the test database, for what only an administrator or
    pg_trickle's own workers do (injecting failures, aging a table); `pgtrickle_conn` is the
    least-privilege role under `PGTRICKLE_TEST_ROLE=least`."""
    with pgtrickle_db.admin_connect() as conn:
        yield conn


@pytest.fixture
def orders(pgtrickle_conn: psycopg.Connection[Any]) -> str:
    """`public.orders` (three rows, two customers) and `public.canary` (one row nobody may
    touch)."""
    pgtrickle_conn.execute(
        "CREATE TABLE public.orders (id int PRIMARY KEY, customer_id int NOT NULL,"
        " amount numeric NOT NULL)"
    )
    pgtrickle_conn.execute("INSERT INTO public.orders VALUES (1, 1, 10), (2, 1, 5), (3, 2, 7)")
    pgtrickle_conn.execute("CREATE TABLE public.canary (x int)")
    pgtrickle_conn.execute("INSERT INTO public.canary VALUES (42)")
    return "public.orders"


def catalog(db: TestDatabase) -> list[tuple[Any, ...]]:
    """The catalog as seen from a separate connection (only committed state), as the superuser:
    pg_trickle 0.108.3 grants no role SELECT on it."""
    with db.admin_connect() as conn:
        return conn.execute(
            "SELECT pgt_schema, pgt_name, status, schedule, refresh_mode, is_populated"
            " FROM pgtrickle.pgt_stream_tables ORDER BY 1, 2"
        ).fetchall()


def relations(db: TestDatabase) -> set[str]:
    with db.connect() as conn:
        rows = conn.execute(
            "SELECT n.nspname || '.' || c.relname FROM pg_class c"
            " JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema',"
            " 'pgtrickle', 'pgtrickle_changes', 'pg_toast')"
        ).fetchall()
    return {r[0] for r in rows}


def fetch(db: TestDatabase, query: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    """Committed state read on a separate superuser connection (the catalog is not granted to
    the least-privilege role on pg_trickle 0.108.3)."""
    with db.admin_connect() as conn:
        return conn.execute(query, params).fetchall()


@pytest.fixture
def sent(pgtrickle_statement_log: StatementLog) -> StatementLog:
    """Statements sent to the test database since the test started (skipped on a remote server)."""
    return pgtrickle_statement_log
