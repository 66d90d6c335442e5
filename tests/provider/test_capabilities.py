"""Capabilities: what the connected pg_trickle offers, probed once, in one round trip.

Per version (`pgtrickle_version`, read from the server): 0.67.0 (sql/archive/pg_trickle--0.67.0.sql)
has none of the probed 0.79+ functions and catalog columns; 0.108.3
(sql/archive/pg_trickle--0.108.3.sql) has `pause_stream_table` (src/api/alter.rs),
`freshness` (src/api/diagnostics.rs) and all five probed catalog columns.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from psycopg import sql

from airflow_provider_pgtrickle import capabilities
from airflow_provider_pgtrickle.capabilities import (
    Capabilities,
    CatalogColumn,
    Feature,
    ReadPath,
    probe,
)
from airflow_provider_pgtrickle.exceptions import PgTrickleFeatureUnavailableError
from airflow_provider_pgtrickle.hooks.pgtrickle import PgTrickleHook
from airflow_provider_pgtrickle.testing.pytest_plugin import StatementLog
from airflow_provider_pgtrickle.testing.server import TestDatabase

from .conftest import ORDERS_QUERY

ST = "public.order_totals"
V067, V0108 = "0.67.0", "0.108.3"

# Functions and columns each version certainly has (the 0.108.3 double leaves out the
# graph / explain / error-catalog APIs that a real 0.108.3 has, so those are not required).
# The read functions are in both (sql/archive/pg_trickle--0.67.0.sql, --0.108.3.sql); the
# 0.67.0 double leaves out st_refresh_stats, which a real 0.67.0 has: neither required nor
# refused there.
_READ = {Feature.PGT_STATUS, Feature.FUSE_STATUS, Feature.GET_REFRESH_HISTORY, Feature.LIST_SOURCES}
HAS = {
    V067: ({Feature.STREAM_TABLE_SPEC, *_READ}, set()),
    V0108: (
        {
            Feature.STREAM_TABLE_SPEC,
            Feature.PAUSE_STREAM_TABLE,
            Feature.ERROR_CATALOG,
            Feature.EXPLAIN_ALTER,
            Feature.FRESHNESS,
            Feature.ST_REFRESH_STATS,
            *_READ,
        },
        set(CatalogColumn),
    ),
}
LACKS = {
    V067: (set(Feature) - HAS[V067][0] - {Feature.ST_REFRESH_STATS}, set(CatalogColumn)),
    V0108: (set(), set()),
}
# How each version is read (`Capabilities.read_path`): 0.108.3 grants reading to
# pgtrickle_reader through functions only.
READ_PATH = {V067: ReadPath.CATALOG, V0108: ReadPath.FUNCTIONS}


def _expect(version: str) -> tuple[tuple[set[Feature], set[CatalogColumn]], ...]:
    if version not in HAS:
        pytest.skip(f"expectations recorded for {V067} and {V0108}; the server runs {version}")
    return HAS[version], LACKS[version]


def test_probe_reports_version_functions_and_columns(
    pgtrickle_conn: psycopg.Connection[Any], pgtrickle_version: str
) -> None:
    (has_f, has_c), (lacks_f, lacks_c) = _expect(pgtrickle_version)
    found = probe(pgtrickle_conn)
    assert found.extversion == pgtrickle_version
    assert has_f <= found.functions
    assert not lacks_f & found.functions
    assert has_c <= found.columns
    assert not lacks_c & found.columns
    # A superuser reads it; so does a least-privilege role on either version (0.108.3's read
    # functions read it as the caller, so its reader grants include it).
    assert found.can_read_catalog is True
    assert found.supported


def test_probe_follows_the_database_not_the_version(
    pgtrickle_db: TestDatabase, pgtrickle_conn: psycopg.Connection[Any]
) -> None:
    """A function that is gone is reported gone, whatever the version says."""
    assert Feature.STREAM_TABLE_SPEC in probe(pgtrickle_conn).functions
    # Removing it takes the extension's owner (PGTRICKLE_TEST_ROLE=least tests as another role).
    with pgtrickle_db.admin_connect() as admin:
        for (signature,) in admin.execute(
            "SELECT oid::regprocedure::text FROM pg_proc"
            " WHERE pronamespace = 'pgtrickle'::regnamespace AND proname = 'stream_table_spec'"
        ).fetchall():
            admin.execute(f"ALTER EXTENSION pg_trickle DROP FUNCTION {signature}")
            admin.execute(f"DROP FUNCTION {signature}")
    assert Feature.STREAM_TABLE_SPEC not in probe(pgtrickle_conn).functions


@pytest.fixture
def login(pgtrickle_db: TestDatabase) -> Iterator[str]:
    """A login role with no grants (trust authentication on the test server)."""
    role = f"pgt_caps_{uuid.uuid4().hex[:8]}"
    with pgtrickle_db.connect() as admin:
        try:
            admin.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(role)))
        except psycopg.errors.InsufficientPrivilege:
            pytest.skip("the test role may not CREATE ROLE")
        try:
            yield role
        finally:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s",
                [role],
            )
            admin.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(role)))
            admin.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))


@pytest.mark.requires_double
def test_can_read_catalog_needs_usage_and_select(
    pgtrickle_db: TestDatabase, pgtrickle_conn: psycopg.Connection[Any], login: str
) -> None:
    role = sql.Identifier(login)

    def as_login() -> Capabilities:
        with psycopg.connect(pgtrickle_db.dsn, user=login, autocommit=True) as conn:
            return probe(conn)

    assert as_login().can_read_catalog is False  # no USAGE: false, not an error
    pgtrickle_conn.execute(sql.SQL("GRANT USAGE ON SCHEMA pgtrickle TO {}").format(role))
    assert as_login().can_read_catalog is False
    pgtrickle_conn.execute(
        sql.SQL("GRANT SELECT ON pgtrickle.pgt_stream_tables TO {}").format(role)
    )
    found = as_login()
    assert found.can_read_catalog is True
    assert found.extversion is not None


def test_hook_probes_once_in_one_statement(hook: PgTrickleHook, sent: StatementLog) -> None:
    first = hook.capabilities()
    assert hook.capabilities() is first
    statements = sent.statements()
    assert len(statements) == 1, statements
    assert "pg_extension" in statements[0]
    assert "pg_attribute" in statements[0]


def test_require_names_the_feature_and_the_release_that_brings_it(
    hook: PgTrickleHook, pgtrickle_version: str
) -> None:
    (has_f, _), (lacks_f, _) = _expect(pgtrickle_version)
    found = hook.capabilities()
    for feature in has_f:
        found.require(feature)
    for feature in lacks_f:
        with pytest.raises(PgTrickleFeatureUnavailableError) as caught:
            found.require(feature, subject=f"Stream table `{ST}`")
        message = str(caught.value)
        assert f"`pgtrickle.{feature.value}`" in message
        assert f"pg_trickle {capabilities.SINCE[feature]}" in message
        assert f"pg_trickle {pgtrickle_version} on this connection" in message
        assert message.endswith(f"({capabilities.supported_text()}).")


@pytest.mark.requires_double
def test_untested_version_warns_once_per_hook(
    hook: PgTrickleHook,
    admin_conn: psycopg.Connection[Any],
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A server outside the tested range (here the catalog says 0.90.0) still works, with one
    warning naming the tested versions, and test_connection() says so."""
    superuser = hook.get_first("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")[0]
    if not superuser:
        pytest.skip(
            "a least-privilege role holds the grants of the real version; faking 0.90.0 "
            "makes test_connection() check the 0.67.0 grants instead"
        )
    hook._capabilities = None  # probed again below, after the version is faked
    admin_conn.execute(  # pg_extension is the superuser's to write
        "UPDATE pg_extension SET extversion = '0.90.0' WHERE extname = 'pg_trickle'"
    )
    capsys.readouterr()
    hook.capabilities()
    hook.capabilities()
    ok, message = hook.test_connection()
    logged = capsys.readouterr().out
    warning = (
        "pg_trickle: pg_trickle 0.90.0 is not a version this provider is tested against "
        "(tested: 0.67.0 and 0.104.0 to 0.108.3); it may work, but where it differs the "
        "provider may fail. Install one of the tested versions."
    )
    assert logged.count(warning) == 1, logged
    assert ok, message
    assert "pg_trickle 0.90.0 is installed (NOT a tested version; tested: 0.67.0 and " in message
    # Another hook probes (and warns) again: the cache is per hook.
    assert PgTrickleHook(postgres_conn_id=hook.postgres_conn_id).capabilities().extversion == (
        "0.90.0"
    )
    assert capsys.readouterr().out.count(warning) == 1


def test_test_connection_shows_the_version_and_that_it_is_supported(
    hook: PgTrickleHook, pgtrickle_version: str
) -> None:
    ok, message = hook.test_connection()
    assert ok, message
    assert f"pg_trickle {pgtrickle_version} is installed (supported)" in message


@pytest.mark.parametrize(
    ("version", "supported"),
    [
        ("0.67.0", True),
        ("0.66.9", False),
        ("0.68.0", False),
        ("0.103.9", False),
        ("0.104.0", True),
        ("0.106.1", True),
        ("0.108.3", True),
        ("0.108.4", False),
        ("0.109.0", False),
        (None, False),
    ],
)
def test_supported_range(version: str | None, supported: bool) -> None:
    assert capabilities.is_supported(version) is supported


@pytest.mark.usefixtures("orders")
@pytest.mark.parametrize("status", ["SUSPENDED", "PAUSED"])
def test_suspending_uses_pause_stream_table_where_it_exists(
    hook: PgTrickleHook,
    pgtrickle_db: TestDatabase,
    pgtrickle_version: str,
    sent: StatementLog,
    status: str,
) -> None:
    """0.108.3 (and any server with pause_stream_table): pause_stream_table, which also marks
    the table for reinitialization (src/api/alter.rs pause_stream_table); 0.67.0:
    alter_stream_table(status => 'SUSPENDED')."""
    (has_f, _), _ = _expect(pgtrickle_version)
    hook.create_stream_table(ST, ORDERS_QUERY, schedule="1h")
    sent.mark()
    hook.alter_stream_table(ST, status=status, schedule="2h")
    pause = Feature.PAUSE_STREAM_TABLE in has_f
    # named_call quotes the function name: pgtrickle."alter_stream_table"(...)
    calls = [c.replace('"', "") for c in sent.calls(r'pgtrickle\."?\w+_stream_table\b"?')]
    if pause:
        assert calls == ["pgtrickle.alter_stream_table", "pgtrickle.pause_stream_table"]
    else:
        assert calls == ["pgtrickle.alter_stream_table"]
    with pgtrickle_db.admin_connect() as other:
        found = other.execute(
            "SELECT status, schedule, needs_reinit FROM pgtrickle.pgt_stream_tables"
            " WHERE pgt_schema = 'public' AND pgt_name = 'order_totals'"
        ).fetchone()
    assert found == ("SUSPENDED", "2h", pause)
    # A retry: pause_stream_table refuses a table that is not ACTIVE, so the alter path runs
    # (a no-op for a SUSPENDED table) and the retry succeeds.
    sent.mark()
    hook.alter_stream_table(ST, status=status, schedule="2h")
    calls = [c.replace('"', "") for c in sent.calls(r'pgtrickle\."?\w+_stream_table\b"?')]
    assert calls == ["pgtrickle.alter_stream_table"]


@pytest.mark.usefixtures("orders")
def test_pausing_an_error_table_keeps_it_suspended(
    hook: PgTrickleHook, pgtrickle_db: TestDatabase
) -> None:
    """pg_trickle resets an ERROR table to ACTIVE at the end of an alter (src/api/alter.rs);
    the status asked for is the one the table keeps, on either path."""
    hook.create_stream_table(ST, ORDERS_QUERY, schedule="1h")
    with pgtrickle_db.admin_connect() as admin:
        admin.execute(
            "UPDATE pgtrickle.pgt_stream_tables SET status = 'ERROR'"
            " WHERE pgt_schema = 'public' AND pgt_name = 'order_totals'"
        )
    hook.alter_stream_table(ST, status="SUSPENDED", schedule="3h")
    with pgtrickle_db.admin_connect() as other:
        found = other.execute(
            "SELECT status, schedule FROM pgtrickle.pgt_stream_tables"
            " WHERE pgt_schema = 'public' AND pgt_name = 'order_totals'"
        ).fetchone()
    assert found == ("SUSPENDED", "3h")


def test_read_path_follows_the_server(
    pgtrickle_conn: psycopg.Connection[Any], pgtrickle_version: str
) -> None:
    """0.67.0 is read through its catalog; 0.108.3, whose schema pgtrickle is granted to
    pgtrickle_reader, through its read functions, whoever asks (a superuser too)."""
    found = probe(pgtrickle_conn)
    assert found.reader_role is (pgtrickle_version == V0108)
    assert found.read_path is READ_PATH[pgtrickle_version]
