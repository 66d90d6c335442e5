"""pg_trickle 0.108.3: the error catalog, suspend reasons, the freshness SLA words and
explain_alter, as the provider relies on them.

Mirrors upstream src/api/release_096.rs (error_catalog), src/error.rs (RefreshFailureKind: the
`last_error_code` words), src/api/alter.rs (explain_alter, pause_stream_table_impl),
src/hooks.rs with tests/e2e_schema_evolution_tests.rs (destructive source DDL suspends with
`refresh_reason` SOURCE_DESTRUCTIVE_SCHEMA) and src/api/diagnostics.rs (freshness). Runs only
against 0.108.3 (see `_v0108.py`); reads go through a separate connection where a commit
matters.
"""

from __future__ import annotations

import pytest

from airflow_provider_pgtrickle.testing.server import TestDatabase
from airflow_provider_pgtrickle.vocabulary.failures import FailureCode, classify

from ._helpers import SIMPLE_QUERY, Conn, call, create_st, make_source, rows, scalar
from ._v0108 import require_0108


@pytest.fixture(autouse=True)
def _only_0108(pgtrickle_version: str) -> None:
    require_0108(pgtrickle_version)


def test_error_catalog_lists_the_codes_with_sqlstate_and_hint(pgtrickle_conn: Conn) -> None:
    """release_096.rs, error_catalog: one row per code with a SQLSTATE of its own, each with
    a hint; the provider's table maps each SQLSTATE back to the same code."""
    found = rows(pgtrickle_conn, "SELECT * FROM pgtrickle.error_catalog() ORDER BY error_id")
    assert [r["error_id"] for r in found] == [
        "DEADLOCK",
        "LOCK_TIMEOUT",
        "OUT_OF_MEMORY",
        "PERMANENT",
        "SERIALIZATION",
        "STATEMENT_TIMEOUT",
    ]
    for r in found:
        assert r["hint"]
        assert r["detail"]
        assert classify(r["sqlstate"], "").code.value == r["error_id"]
    assert scalar(
        pgtrickle_conn,
        "SELECT has_function_privilege('public', 'pgtrickle.error_catalog()', 'EXECUTE')",
    )


def test_last_error_code_takes_the_failure_kinds(pgtrickle_conn: Conn) -> None:
    """The catalog CHECK of last_error_code is RefreshFailureKind::code's words: the
    provider's FailureCode, exactly."""
    check = scalar(
        pgtrickle_conn,
        "SELECT pg_get_constraintdef(oid) FROM pg_constraint"
        " WHERE conrelid = 'pgtrickle.pgt_stream_tables'::regclass"
        " AND pg_get_constraintdef(oid) LIKE '%%last_error_code%%'",
    )
    for code in FailureCode:
        assert f"'{code.value}'" in check


def test_pause_marks_the_table_for_reinitialize_without_an_error(
    pgtrickle_conn: Conn, pgtrickle_db: TestDatabase
) -> None:
    """pause_stream_table_impl: mark_for_reinitialize, then SUSPENDED; no error recorded."""
    make_source(pgtrickle_conn)
    create_st(pgtrickle_conn, "paused_st")
    call(pgtrickle_conn, "pause_stream_table", name="paused_st")
    with pgtrickle_db.connect() as other:
        found = other.execute(
            "SELECT status, needs_reinit, refresh_reason, consecutive_errors, last_error_message"
            " FROM pgtrickle.pgt_stream_tables WHERE pgt_name = 'paused_st'"
        ).fetchone()
    assert found == ("SUSPENDED", True, "SCHEMA_CHANGED", 0, None)


def test_destructive_source_ddl_suspends_with_a_reason_code(
    pgtrickle_conn: Conn, pgtrickle_db: TestDatabase
) -> None:
    """e2e_schema_evolution_tests.rs, rename of a used column with block_source_ddl off:
    SUSPENDED with refresh_reason SOURCE_DESTRUCTIVE_SCHEMA."""
    make_source(pgtrickle_conn)
    create_st(pgtrickle_conn, "ddl_st")
    pgtrickle_conn.execute("SET pg_trickle.block_source_ddl = off")
    pgtrickle_conn.execute("ALTER TABLE src RENAME COLUMN v TO w")
    with pgtrickle_db.connect() as other:
        found = other.execute(
            "SELECT status, refresh_reason FROM pgtrickle.pgt_stream_tables"
            " WHERE pgt_name = 'ddl_st'"
        ).fetchone()
    assert found == ("SUSPENDED", "SOURCE_DESTRUCTIVE_SCHEMA")


def test_freshness_reports_insufficient_data_before_the_controller_decides(
    pgtrickle_conn: Conn,
) -> None:
    """diagnostics.rs, freshness: interval targets only; INSUFFICIENT_DATA without a state."""
    make_source(pgtrickle_conn)
    create_st(pgtrickle_conn, "fresh_st")
    assert rows(pgtrickle_conn, "SELECT * FROM pgtrickle.freshness()") == []
    pgtrickle_conn.execute(
        "UPDATE pgtrickle.pgt_stream_tables SET target_freshness_mode = 'INTERVAL',"
        " freshness_deadline_ms = 60000 WHERE pgt_name = 'fresh_st'"
    )
    (found,) = rows(pgtrickle_conn, "SELECT stream_table, status FROM pgtrickle.freshness()")
    assert found == {"stream_table": "public.fresh_st", "status": "INSUFFICIENT_DATA"}


@pytest.mark.parametrize(
    ("query", "classification", "reason_code"),
    [
        (SIMPLE_QUERY, "compatible", None),
        ("SELECT id, v FROM src WHERE v > 10", "rebuildable", "ALTER_QUERY_REBUILD"),
        ("SELECT id, v, v + 1 AS w FROM src", "rebuildable", "ALTER_QUERY_REBUILD"),
        ("SELECT id, no_such_column FROM src", "rejected", "ALTER_QUERY_REJECTED"),
    ],
)
def test_explain_alter_classifies_without_changing_anything(
    pgtrickle_conn: Conn,
    pgtrickle_db: TestDatabase,
    query: str,
    classification: str,
    reason_code: str | None,
) -> None:
    """alter.rs, explain_alter: compatible only for the same query over the same columns and
    sources; any other valid query is rebuildable; an invalid one is a `rejected` row, not an
    error. Nothing in the catalog changes."""
    make_source(pgtrickle_conn)
    create_st(pgtrickle_conn, "plan_st")
    explained = call(pgtrickle_conn, "explain_alter", name="plan_st", new_query=query)
    assert (explained["classification"], explained["reason_code"]) == (
        classification,
        reason_code,
    )
    assert explained["reason"]
    with pgtrickle_db.connect() as other:
        assert other.execute(
            "SELECT defining_query FROM pgtrickle.pgt_stream_tables WHERE pgt_name = 'plan_st'"
        ).fetchone() == (SIMPLE_QUERY,)
