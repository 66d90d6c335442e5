"""pytest plugin `pgtrickle`: PostgreSQL 18 + pg_trickle fixtures for your own tests.

Registered through the `pytest11` entry point, so installing
`airflow-provider-pgtrickle[testing]` makes these fixtures available everywhere:

- `pgtrickle_server` (session): a throwaway PostgreSQL 18 with the pg_trickle test double, or
  the server named by `PGTRICKLE_TEST_DSN` (a real pg_trickle).
- `pgtrickle_db`: a fresh database with the extension, dropped afterwards.
- `pgtrickle_conn`: an autocommit psycopg connection to it.
- `pgtrickle_version`: the pg_trickle version installed in `pgtrickle_db` (on the double,
  the one `PGTRICKLE_TEST_VERSION` picked; see `airflow_provider_pgtrickle.testing.versions`).
- `pgtrickle_tick`: run one scheduler tick (double only).
- `pgtrickle_statement_log`: the statements a client sent to the test's database (double only).
- `pgtrickle_airflow_conn`: `AIRFLOW_CONN_POSTGRES_DEFAULT` pointing at the test database.
- `pgtrickle_airflow` (session): a private Airflow home with a migrated metadata database;
  `pgtrickle_airflow.run_dag(dag_file, dag_id, env=pgtrickle_db.airflow_env())` runs a DAG file
  end to end and returns per-task states (see `airflow_provider_pgtrickle.testing.airflow`).

Mark tests that need the double's helper functions with `@pytest.mark.requires_double`.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg.rows import dict_row

from airflow_provider_pgtrickle.testing.airflow import AirflowHome
from airflow_provider_pgtrickle.testing.server import (
    TestDatabase,
    TestServer,
    connect_server,
    start_double_server,
)

DSN_ENV = "PGTRICKLE_TEST_DSN"
_REAL_SERVER_REASON = (
    f"needs the pg_trickle test double's helpers; {DSN_ENV} points at a real pg_trickle server"
)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "requires_double: needs the pg_trickle test double's helpers "
        f"(skipped when {DSN_ENV} is set)",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not os.environ.get(DSN_ENV):
        return
    skip = pytest.mark.skip(reason=_REAL_SERVER_REASON)
    for item in items:
        if item.get_closest_marker("requires_double"):
            item.add_marker(skip)


@pytest.fixture(scope="session")
def pgtrickle_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestServer]:
    dsn = os.environ.get(DSN_ENV)
    if dsn:
        with _as_test_role(connect_server(dsn)) as server:
            yield server
        return
    with start_double_server(log_statements=True) as double, _as_test_role(double) as server:
        yield server


@contextlib.contextmanager
def _as_test_role(server: TestServer) -> Iterator[TestServer]:
    """`PGTRICKLE_TEST_ROLE=least`: hand out databases owned by a non-superuser role."""
    from airflow_provider_pgtrickle.testing._least_role import ROLE_CHOICES, ROLE_ENV

    choice = os.environ.get(ROLE_ENV) or "superuser"
    if choice not in ROLE_CHOICES:
        raise pytest.UsageError(
            f"{ROLE_ENV}={choice!r} is not a test role; accepted: {', '.join(ROLE_CHOICES)}."
        )
    if choice == "superuser":
        yield server
        return
    least = server.with_least_role()
    try:
        yield least
    finally:
        least.drop_least_role()


@pytest.fixture
def pgtrickle_db(pgtrickle_server: TestServer) -> Iterator[TestDatabase]:
    with pgtrickle_server.fresh_database() as db:
        yield db


@pytest.fixture
def pgtrickle_conn(pgtrickle_db: TestDatabase) -> Iterator[psycopg.Connection[Any]]:
    with pgtrickle_db.connect(autocommit=True) as conn:
        yield conn


@pytest.fixture
def pgtrickle_version(pgtrickle_conn: psycopg.Connection[Any]) -> str:
    """`extversion` of pg_trickle in the test database (the double's or a real server's)."""
    found = pgtrickle_conn.execute(
        "SELECT extversion FROM pg_catalog.pg_extension WHERE extname = 'pg_trickle'"
    ).fetchone()
    return str(found[0]) if found else ""


@pytest.fixture
def pgtrickle_tick(pgtrickle_db: TestDatabase) -> Callable[[], list[dict[str, Any]]]:
    """One synchronous scheduler tick of the double; returns the attempts it made."""
    if not pgtrickle_db.is_double:
        pytest.skip(_REAL_SERVER_REASON)

    def tick() -> list[dict[str, Any]]:
        # pg_trickle's scheduler is a background worker running as the superuser.
        with pgtrickle_db.admin_connect(autocommit=True, row_factory=dict_row) as conn:
            return list(conn.execute("SELECT * FROM pgtrickle_test.run_scheduler_tick()"))

    return tick


class StatementLog:
    """Top-level statements one database received, read from the server log.

    The test server runs with `log_statement = 'all'` and a log line prefix that names the
    database, so a test can count exactly what a client (dbt, an operator) sent.
    """

    _ENTRY = re.compile(r"^\S+ \S+ \S+ \[\d+\] db=(?P<db>\S*) (?P<level>[A-Z]+):  (?P<msg>.*)$")
    _STATEMENT = re.compile(r"(?:statement|execute [^:]*): ")

    def __init__(self, log_path: Path, dbname: str) -> None:
        self._path = log_path
        self._dbname = dbname
        self._offset = 0

    def mark(self) -> None:
        """Forget everything logged so far."""
        self._offset = self._path.stat().st_size

    def statements(self) -> list[str]:
        """Statements logged for this database since the last `mark()`."""
        with self._path.open("rb") as fh:
            fh.seek(self._offset)
            text = fh.read().decode("utf-8", errors="replace")
        out: list[str] = []
        current: list[str] | None = None
        for line in text.splitlines():
            match = self._ENTRY.match(line)
            if match:
                if current is not None:
                    out.append("\n".join(current))
                current = None
                # Simple-protocol queries log as `statement: …`; extended-protocol ones (psycopg
                # with bound parameters) as `execute <unnamed>: …` or `execute _pg3_0: …`.
                stmt = self._STATEMENT.match(match["msg"])
                if match["db"] == self._dbname and match["level"] == "LOG" and stmt:
                    current = [match["msg"][stmt.end() :]]
            elif current is not None:
                # Continuation lines of a multi-line statement are logged with a leading tab.
                current.append(line[1:] if line.startswith("\t") else line)
        if current is not None:
            out.append("\n".join(current))
        return out

    def calls(self, pattern: str = r"pgtrickle\.\w+") -> list[str]:
        """Every match of `pattern` in the statements since the mark (default: pgtrickle calls)."""
        regex = re.compile(pattern)
        return [m.group(0) for stmt in self.statements() for m in regex.finditer(stmt)]


@pytest.fixture
def pgtrickle_statement_log(
    pgtrickle_server: TestServer, pgtrickle_db: TestDatabase
) -> StatementLog:
    if pgtrickle_server.log_path is None:
        pytest.skip(f"statement counting reads the test server's log; {DSN_ENV} is a remote server")
    log = StatementLog(pgtrickle_server.log_path, pgtrickle_db.dbname)
    log.mark()
    return log


@pytest.fixture
def pgtrickle_airflow_conn(pgtrickle_db: TestDatabase, monkeypatch: pytest.MonkeyPatch) -> str:
    """Point Airflow's `postgres_default` connection at the test database."""
    for key, value in pgtrickle_db.airflow_env("postgres_default").items():
        monkeypatch.setenv(key, value)
    return "postgres_default"


@pytest.fixture(scope="session")
def pgtrickle_airflow(tmp_path_factory: pytest.TempPathFactory) -> AirflowHome:
    """A private Airflow home for `dag.test()` runs, migrated once per test session."""
    home = AirflowHome(tmp_path_factory.mktemp("pgtrickle-airflow-home"))
    home.migrate()
    return home
