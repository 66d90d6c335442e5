"""The test server and pytest plugin that every other test stands on."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import psycopg
import pytest

from airflow_provider_pgtrickle.testing.server import EXTENSION_DIR, TestDatabase, TestServer
from airflow_provider_pgtrickle.testing.versions import DoubleVersion


def test_extension_dir_holds_the_double() -> None:
    assert (EXTENSION_DIR / "pg_trickle.control").is_file()


def test_database_has_extension_and_is_reachable(
    pgtrickle_server: TestServer, pgtrickle_db: TestDatabase
) -> None:
    expected = pgtrickle_server.double_version or DoubleVersion.V0_67_0
    with pgtrickle_db.connect() as conn:
        row = conn.execute(
            "SELECT extversion FROM pg_extension WHERE extname = 'pg_trickle'"
        ).fetchone()
        assert row == (expected.value,)
        assert conn.execute("SHOW server_version_num").fetchone()[0] >= "180000"


def test_each_test_gets_its_own_database(pgtrickle_server, pgtrickle_db: TestDatabase) -> None:
    other = pgtrickle_server.create_database()
    try:
        assert other.dbname != pgtrickle_db.dbname
        with pgtrickle_db.connect() as conn:
            conn.execute("CREATE TABLE only_here (id int)")
        with other.connect() as conn:
            assert conn.execute("SELECT to_regclass('only_here')").fetchone() == (None,)
    finally:
        pgtrickle_server.drop_database(other.dbname)


def test_connection_helpers_describe_the_same_database(pgtrickle_db: TestDatabase) -> None:
    env = pgtrickle_db.dbt_env()
    assert env["PGDATABASE"] == pgtrickle_db.dbname
    assert env["PGPORT"] == str(pgtrickle_db.port)
    uri = pgtrickle_db.airflow_env("my_pg")["AIRFLOW_CONN_MY_PG"]
    assert uri.startswith("postgres://")
    assert uri.endswith(f":{pgtrickle_db.port}/{pgtrickle_db.dbname}")


def test_statement_log_sees_only_this_database(
    pgtrickle_db: TestDatabase, pgtrickle_statement_log
) -> None:
    with pgtrickle_db.connect() as conn:
        conn.execute("SELECT 1 AS\n  first_marker")
        conn.execute("SELECT pgtrickle.version()")
        # Bound parameters go through the extended protocol, logged as `execute <name>: …`.
        conn.execute("SELECT %s::text AS bound_marker", ["x"])
    statements = pgtrickle_statement_log.statements()
    assert "SELECT 1 AS\n  first_marker" in statements
    assert "SELECT $1::text AS bound_marker" in statements
    assert pgtrickle_statement_log.calls() == ["pgtrickle.version"]
    pgtrickle_statement_log.mark()
    assert pgtrickle_statement_log.statements() == []


@pytest.mark.requires_double
def test_double_is_flagged(pgtrickle_db: TestDatabase) -> None:
    assert pgtrickle_db.is_double


def test_sigterm_stops_and_deletes_the_server() -> None:
    # A CI timeout or a cancelled job sends SIGTERM; the postmaster must not outlive it.
    script = textwrap.dedent(
        """
        import time
        from airflow_provider_pgtrickle.testing.server import start_double_server
        with start_double_server(log_statements=False) as server:
            print(server.port, server.data_dir, flush=True)
            time.sleep(600)
        """
    )
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None
        port, data_dir = child.stdout.readline().split()
        with psycopg.connect(host="127.0.0.1", port=port, user="postgres", dbname="postgres"):
            pass
        os.kill(child.pid, signal.SIGTERM)
        assert child.wait(timeout=60) == 128 + signal.SIGTERM
    finally:
        if child.poll() is None:
            child.kill()
    assert not Path(data_dir).exists()
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(
            host="127.0.0.1", port=port, user="postgres", dbname="postgres", connect_timeout=5
        )
