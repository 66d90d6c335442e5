"""The test server and pytest plugin that every other test stands on."""

from __future__ import annotations

import pytest

from airflow_provider_pgtrickle.testing.server import TestDatabase


def test_database_has_extension_and_is_reachable(pgtrickle_db: TestDatabase) -> None:
    with pgtrickle_db.connect() as conn:
        row = conn.execute(
            "SELECT extversion FROM pg_extension WHERE extname = 'pg_trickle'"
        ).fetchone()
        assert row == ("0.67.0",)
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
