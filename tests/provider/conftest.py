"""Fixtures for the provider tests: a hook on the test database and a small source table."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import psycopg
import pytest

from airflow_provider_pgtrickle.hooks.pgtrickle import PgTrickleHook
from airflow_provider_pgtrickle.testing.server import TestDatabase, TestServer

ORDERS_QUERY = (
    "SELECT customer_id, sum(amount) AS total, count(*) AS n FROM public.orders "
    "GROUP BY customer_id"
)


@pytest.fixture
def hook(pgtrickle_airflow_conn: str) -> PgTrickleHook:
    return PgTrickleHook(postgres_conn_id=pgtrickle_airflow_conn)


@pytest.fixture
def orders(pgtrickle_conn: psycopg.Connection[Any]) -> str:
    """`public.orders` with a primary key and three rows for two customers."""
    pgtrickle_conn.execute(
        "CREATE TABLE public.orders (id int PRIMARY KEY, customer_id int NOT NULL,"
        " amount numeric NOT NULL)"
    )
    pgtrickle_conn.execute("INSERT INTO public.orders VALUES (1, 1, 10), (2, 1, 5), (3, 2, 7)")
    pgtrickle_conn.execute("CREATE TABLE public.canary (x int)")
    return "public.orders"


def catalog(db: TestDatabase) -> list[tuple[Any, ...]]:
    """The catalog as seen from a separate connection (only committed state)."""
    with db.connect() as conn:
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
    with db.connect() as conn:
        return conn.execute(query, params).fetchall()


class SentStatements:
    """Every top-level statement this test's database received since `mark()`.

    Unlike the plugin's `pgtrickle_statement_log`, this also counts extended-protocol
    executions (`execute <unnamed>: ...`), which is how psycopg sends parameterised queries.
    """

    _ENTRY = re.compile(
        r"^\S+ \S+ \S+ \[\d+\] db=(?P<db>\S*) LOG:  (?:statement|execute [^:]*): (?P<sql>.*)$"
    )

    def __init__(self, log_path: Path, dbname: str) -> None:
        self._path = log_path
        self._dbname = dbname
        self._offset = 0

    def mark(self) -> None:
        self._offset = self._path.stat().st_size

    def statements(self) -> list[str]:
        with self._path.open("rb") as fh:
            fh.seek(self._offset)
            text = fh.read().decode("utf-8", errors="replace")
        return [
            m["sql"]
            for line in text.splitlines()
            if (m := self._ENTRY.match(line)) and m["db"] == self._dbname
        ]


@pytest.fixture
def sent(pgtrickle_server: TestServer, pgtrickle_db: TestDatabase) -> SentStatements:
    """Statements sent to the test database (needs the local test server's log)."""
    if pgtrickle_server.log_path is None:
        pytest.skip("counting statements reads the local test server's log")
    log = SentStatements(pgtrickle_server.log_path, pgtrickle_db.dbname)
    log.mark()
    return log
