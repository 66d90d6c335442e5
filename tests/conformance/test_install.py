"""Installation and version detection (pg_trickle src/api/diagnostics.rs, version,
version_check; the control file pg_trickle.control). The same on 0.67.0 and 0.108.3 except
the version itself (see `installed_version`)."""

from __future__ import annotations

import json

import pytest

from airflow_provider_pgtrickle.testing.server import TestDatabase
from airflow_provider_pgtrickle.testing.versions import resolve_version

from ._helpers import Conn, row, rows, scalar
from ._versions import V0108, V067, expected


@pytest.fixture
def installed_version(pgtrickle_db: TestDatabase, pgtrickle_version: str) -> str:
    """The version the test expects installed. On the double: the one the test kit was asked
    to play (`PGTRICKLE_TEST_VERSION` or the default), so a double that installs another
    version fails. On a real server: its own ``extversion``, if it is a version the
    conformance tests know."""
    if pgtrickle_db.is_double:
        return resolve_version().value
    return expected(pgtrickle_version, {V067: V067, V0108: V0108})


def test_13_01_create_extension_reports_version(
    pgtrickle_conn: Conn, installed_version: str
) -> None:
    # The fixture ran CREATE EXTENSION; the schemas it created belong to the extension
    # (or, for a control-file `schema`, are its namespace).
    members = rows(
        pgtrickle_conn,
        "SELECT n.nspname FROM pg_depend d JOIN pg_namespace n ON n.oid = d.objid"
        " WHERE d.classid = 'pg_namespace'::regclass AND d.deptype = 'e'"
        " AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'pg_trickle')"
        " UNION SELECT extnamespace::regnamespace::text FROM pg_extension"
        " WHERE extname = 'pg_trickle' ORDER BY 1",
    )
    assert {"pgtrickle", "pgtrickle_changes"} <= {m["nspname"] for m in members}
    assert (
        scalar(
            pgtrickle_conn,
            "SELECT pronamespace::regnamespace::text FROM pg_proc p JOIN pg_depend d"
            " ON d.objid = p.oid AND d.classid = 'pg_proc'::regclass AND d.deptype = 'e'"
            " WHERE p.proname = 'create_stream_table'",
        )
        == "pgtrickle"
    )
    assert (
        scalar(pgtrickle_conn, "SELECT extversion FROM pg_extension WHERE extname = 'pg_trickle'")
        == installed_version
    )
    assert scalar(pgtrickle_conn, "SELECT pgtrickle.version()") == installed_version


def test_13_01_extension_version_and_version_function(
    pgtrickle_conn: Conn, installed_version: str
) -> None:
    assert (
        scalar(pgtrickle_conn, "SELECT extversion FROM pg_extension WHERE extname = 'pg_trickle'")
        == installed_version
    )
    assert scalar(pgtrickle_conn, "SELECT pgtrickle.version()") == installed_version


def test_13_01_version_check_returns_json_text(
    pgtrickle_conn: Conn, installed_version: str
) -> None:
    assert (
        scalar(
            pgtrickle_conn,
            "SELECT format_type(prorettype, NULL) FROM pg_proc"
            " WHERE oid = 'pgtrickle.version_check()'::regprocedure",
        )
        == "text"
    )
    payload = json.loads(scalar(pgtrickle_conn, "SELECT pgtrickle.version_check()"))
    assert {"library_version", "extension_version", "pg_version", "version_match"} <= set(payload)
    assert payload["extension_version"] == installed_version
    assert isinstance(payload["version_match"], bool)


def test_01_control_file_properties(pgtrickle_conn: Conn, installed_version: str) -> None:
    ext = row(
        pgtrickle_conn,
        "SELECT e.extrelocatable, a.default_version FROM pg_extension e"
        " JOIN pg_available_extensions a ON a.name = e.extname WHERE e.extname = 'pg_trickle'",
    )
    assert ext == {"extrelocatable": False, "default_version": installed_version}
    version = row(
        pgtrickle_conn,
        "SELECT superuser, trusted FROM pg_available_extension_versions"
        " WHERE name = 'pg_trickle' AND version = %s",
        [installed_version],
    )
    assert version == {"superuser": True, "trusted": False}


def test_01_install_creates_change_schema_and_event_triggers(pgtrickle_conn: Conn) -> None:
    assert scalar(pgtrickle_conn, "SELECT to_regnamespace('pgtrickle_changes')") is not None
    triggers = rows(
        pgtrickle_conn,
        "SELECT evtname, evtevent FROM pg_event_trigger"
        " WHERE evtname IN ('pg_trickle_ddl_tracker', 'pg_trickle_drop_tracker') ORDER BY 1",
    )
    assert triggers == [
        {"evtname": "pg_trickle_ddl_tracker", "evtevent": "ddl_command_end"},
        {"evtname": "pg_trickle_drop_tracker", "evtevent": "sql_drop"},
    ]
