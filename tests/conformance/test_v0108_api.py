"""pg_trickle 0.108.3: signatures, result columns, catalog and the behaviour a client relies on.

Mirrors upstream sql/archive/pg_trickle--0.108.3.sql (the generated install script: every
signature, result column and catalog column), src/api/create.rs (create_stream_table,
create_or_replace_stream_table), src/api/alter.rs (alter_stream_table, pause_stream_table),
src/api/refresh_ops.rs (refresh_stream_table_impl: EXTERNAL tables), src/monitor/mod.rs
(get_refresh_history, st_refresh_stats) and src/api/diagnostics.rs (freshness). Runs only
against 0.108.3 (see `_v0108.py`).
"""

from __future__ import annotations

import psycopg
import pytest

from airflow_provider_pgtrickle.testing.server import TestDatabase

from ._helpers import Conn, assert_pg_error, call, create_st, make_source, row, rows, scalar, st
from ._v0108 import ALTER_ARGS, CREATE_ARGS, CREATE_COMMON_ARGS, require_0108, result_columns


@pytest.fixture(autouse=True)
def _only_0108(pgtrickle_version: str) -> None:
    require_0108(pgtrickle_version)


def _args(*names_types: tuple[str, str, str | None]) -> str:
    return ", ".join(
        f"{name} {typ}" + ("" if default is None else f" DEFAULT {default}")
        for name, typ, default in names_types
    )


# function -> (arguments as pg_get_function_arguments renders them, STRICT)
SIGNATURES: dict[str, tuple[str, bool]] = {
    "create_stream_table": (_args(*CREATE_ARGS), False),
    "create_stream_table_if_not_exists": (_args(*CREATE_ARGS), False),
    "create_or_replace_stream_table": (
        _args(*CREATE_COMMON_ARGS, ("orchestration_mode", "text", "NULL::text")),
        False,
    ),
    "alter_stream_table": (_args(*ALTER_ARGS), False),
    "drop_stream_table": ("name text, cascade boolean DEFAULT false", True),
    "refresh_stream_table": ("name text", True),
    "pause_stream_table": ("name text", True),
    "resume_stream_table": ("name text", True),
    "get_refresh_history": ("name text, max_rows integer DEFAULT 20", True),
}


@pytest.mark.parametrize("function", list(SIGNATURES))
def test_signature_by_name(pgtrickle_conn: Conn, function: str) -> None:
    """The install script's CREATE FUNCTION for each lifecycle function: one overload,
    argument names, types, defaults (named-argument calls depend on them) and STRICT."""
    arguments, strict = SIGNATURES[function]
    found = rows(
        pgtrickle_conn,
        "SELECT pg_get_function_arguments(p.oid) AS arguments, p.proisstrict"
        " FROM pg_proc p WHERE p.pronamespace = 'pgtrickle'::regnamespace AND p.proname = %s",
        [function],
    )
    assert [(f["arguments"], f["proisstrict"]) for f in found] == [(arguments, strict)]


RESULTS: dict[str, list[tuple[str, str]]] = {
    "pgtrickle.pgt_status()": [
        ("name", "text"), ("status", "text"), ("refresh_mode", "text"),
        ("is_populated", "boolean"), ("consecutive_errors", "integer"), ("schedule", "text"),
        ("data_timestamp", "timestamp with time zone"), ("staleness", "interval"),
        ("scc_id", "integer"),
    ],
    "pgtrickle.get_refresh_history(text, integer)": [
        ("refresh_id", "bigint"), ("data_timestamp", "timestamp with time zone"),
        ("start_time", "timestamp with time zone"), ("end_time", "timestamp with time zone"),
        ("action", "text"), ("status", "text"), ("rows_inserted", "bigint"),
        ("rows_updated", "bigint"), ("rows_deleted", "bigint"),
        ("duration_ms", "double precision"), ("error_message", "text"),
        ("refresh_reason", "text"), ("refresh_reason_detail", "text"),
    ],
    "pgtrickle.st_refresh_stats()": [
        ("pgt_name", "text"), ("pgt_schema", "text"), ("status", "text"),
        ("refresh_mode", "text"), ("is_populated", "boolean"), ("total_refreshes", "bigint"),
        ("successful_refreshes", "bigint"), ("failed_refreshes", "bigint"),
        ("total_rows_inserted", "bigint"), ("total_rows_updated", "bigint"),
        ("total_rows_deleted", "bigint"), ("avg_duration_ms", "double precision"),
        ("last_refresh_action", "text"), ("last_refresh_status", "text"),
        ("last_refresh_at", "timestamp with time zone"), ("staleness_secs", "double precision"),
        ("stale", "boolean"), ("consecutive_errors", "integer"), ("schedule", "text"),
        ("refresh_tier", "text"), ("last_error_message", "text"),
        ("downstream_publication", "text"),
    ],
    "pgtrickle.health_check()": [("check_name", "text"), ("severity", "text"), ("detail", "text")],
    # src/api/diagnostics.rs, fuse_status; src/monitor/mod.rs, list_sources (the health query
    # and the dependency graph read them by name where the catalog is not granted).
    "pgtrickle.fuse_status()": [
        ("stream_table", "text"), ("fuse_mode", "text"), ("fuse_state", "text"),
        ("fuse_ceiling", "bigint"), ("effective_ceiling", "bigint"),
        ("fuse_sensitivity", "integer"), ("blown_at", "timestamp with time zone"),
        ("blow_reason", "text"),
    ],
    "pgtrickle.list_sources(text)": [
        ("source_table", "text"), ("source_oid", "bigint"), ("source_type", "text"),
        ("cdc_mode", "text"), ("columns_used", "text"),
    ],
    "pgtrickle.freshness()": [
        ("stream_table", "text"), ("target", "interval"), ("p50", "interval"),
        ("p95", "interval"), ("p99", "interval"), ("status", "text"),
    ],
    "pgtrickle.refresh_timeline(integer)": [
        ("start_time", "timestamp with time zone"), ("stream_table", "text"), ("action", "text"),
        ("status", "text"), ("rows_inserted", "bigint"), ("rows_updated", "bigint"),
        ("rows_deleted", "bigint"), ("duration_ms", "double precision"),
        ("error_message", "text"),
    ],
}  # fmt: skip


@pytest.mark.parametrize("signature", list(RESULTS))
def test_result_columns_names_and_order(pgtrickle_conn: Conn, signature: str) -> None:
    """Positional readers break when columns move: rows_updated sits between rows_inserted
    and rows_deleted (0.82.0), refresh reasons come last."""
    assert result_columns(pgtrickle_conn, signature) == RESULTS[signature]


def test_stream_table_spec_overloads(pgtrickle_conn: Conn) -> None:
    """src/api/spec.rs: stream_table_spec(relid oid) and stream_table_spec(qualified_name text)."""
    found = rows(
        pgtrickle_conn,
        "SELECT pg_get_function_arguments(p.oid) AS a, format_type(p.prorettype, NULL) AS r"
        " FROM pg_proc p WHERE p.pronamespace = 'pgtrickle'::regnamespace"
        "   AND p.proname = 'stream_table_spec' ORDER BY 1",
    )
    assert [(f["a"], f["r"]) for f in found] == [
        ("qualified_name text", "jsonb"),
        ("relid oid", "jsonb"),
    ]


def test_catalog_columns_added_and_removed(pgtrickle_conn: Conn) -> None:
    """pgt_stream_tables / pgt_refresh_history as 0.108.3 creates them (names; the double
    appends new columns, so the order is not compared)."""

    def columns(table: str) -> set[str]:
        return {
            r["attname"]
            for r in rows(
                pgtrickle_conn,
                "SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass"
                " AND attnum > 0 AND NOT attisdropped",
                [table],
            )
        }

    catalog = columns("pgtrickle.pgt_stream_tables")
    assert {
        "requested_refresh_mode", "target_freshness_mode", "refresh_reason",
        "refresh_reason_detail", "last_error_code", "last_error_retryable",
        "orchestration_mode", "row_identity_version", "row_probe_version",
        "storage_fillfactor", "defining_search_path", "contract_generation",
    } <= catalog  # fmt: skip
    assert not {c for c in catalog if c.startswith("ducklake_")}
    history = columns("pgtrickle.pgt_refresh_history")
    assert {"rows_updated", "error_code", "error_sqlstate", "retryable", "duration_ms"} <= history


def test_create_records_the_new_settings(pgtrickle_conn: Conn) -> None:
    """create_stream_table stores requested_refresh_mode (AUTO kept as asked), the
    fillfactor (as the storage table's reloption too), MANAGED orchestration and row
    identity version 3."""
    conn = pgtrickle_conn
    make_source(conn)
    call(
        conn,
        "create_stream_table",
        name="public.t",
        query="SELECT id, v FROM src",
        schedule="1h",
        refresh_mode="AUTO",
        fillfactor=70,
    )
    entry = st(conn, "public.t")
    assert entry is not None
    assert (
        entry["requested_refresh_mode"],
        entry["refresh_mode"],
        entry["storage_fillfactor"],
        entry["orchestration_mode"],
        entry["row_identity_version"],
    ) == ("AUTO", "DIFFERENTIAL", 70, "MANAGED", 3)
    assert "fillfactor=70" in scalar(
        conn, "SELECT reloptions FROM pg_class WHERE oid = 'public.t'::regclass"
    )


def test_ducklake_arguments_are_gone(pgtrickle_conn: Conn) -> None:
    """0.76.1 removed the sink arguments: a named `sink =>` no longer resolves."""
    make_source(pgtrickle_conn)
    with pytest.raises(psycopg.errors.UndefinedFunction):
        call(
            pgtrickle_conn,
            "create_stream_table",
            name="public.t",
            query="SELECT id FROM src",
            sink="none",
        )
    assert st(pgtrickle_conn, "public.t") is None


@pytest.mark.parametrize("fillfactor", [9, 101])
def test_fillfactor_out_of_range_creates_nothing(pgtrickle_conn: Conn, fillfactor: int) -> None:
    make_source(pgtrickle_conn)
    with pytest.raises(psycopg.Error) as info:
        call(pgtrickle_conn, "create_stream_table", name="public.t", query="SELECT id FROM src",
             fillfactor=fillfactor)  # fmt: skip
    assert_pg_error(info.value, "22023")
    assert st(pgtrickle_conn, "public.t") is None
    assert scalar(pgtrickle_conn, "SELECT to_regclass('public.t')") is None


def test_external_orchestration_refuses_managed_refresh(pgtrickle_conn: Conn) -> None:
    """src/api/refresh_ops.rs, refresh_stream_table_impl: "managed refresh must reject
    EXTERNAL tables" with PGT_EXT_ORCHESTRATION_MODE."""
    conn = pgtrickle_conn
    make_source(conn)
    create_st(conn, "public.t", orchestration_mode="EXTERNAL")
    assert st(conn, "public.t")["orchestration_mode"] == "EXTERNAL"  # type: ignore[index]
    with pytest.raises(psycopg.Error) as info:
        call(conn, "refresh_stream_table", "public.t")
    assert "PGT_EXT_ORCHESTRATION_MODE" in (info.value.diag.message_primary or "")


def test_external_with_immediate_is_rejected(pgtrickle_conn: Conn) -> None:
    """src/api/integration.rs: EXTERNAL orchestration cannot be combined with IMMEDIATE."""
    make_source(pgtrickle_conn)
    with pytest.raises(psycopg.Error) as info:
        create_st(pgtrickle_conn, "public.t", refresh_mode="IMMEDIATE", schedule=None,
                  orchestration_mode="EXTERNAL")  # fmt: skip
    assert_pg_error(info.value, "22023")
    assert st(pgtrickle_conn, "public.t") is None


def test_pause_suspends_with_a_reason(pgtrickle_conn: Conn, pgtrickle_db: TestDatabase) -> None:
    """src/api/alter.rs, pause_stream_table_impl: ACTIVE -> SUSPENDED with the reinitialize
    mark (needs_reinit, refresh_reason SCHEMA_CHANGED); only ACTIVE tables can be paused and
    a paused table refuses manual refreshes until resumed."""
    conn = pgtrickle_conn
    make_source(conn)
    create_st(conn, "public.t")
    call(conn, "pause_stream_table", "public.t")
    with pgtrickle_db.connect() as other:
        entry = row(
            other,
            "SELECT status, needs_reinit, refresh_reason FROM pgtrickle.pgt_stream_tables"
            " WHERE pgt_name = 't'",
        )
    assert entry == {
        "status": "SUSPENDED",
        "needs_reinit": True,
        "refresh_reason": "SCHEMA_CHANGED",
    }
    with pytest.raises(psycopg.Error) as again:
        call(conn, "pause_stream_table", "public.t")
    assert_pg_error(
        again.value, "22023", prefix="invalid argument: stream table public.t is not ACTIVE"
    )
    with pytest.raises(psycopg.Error) as refresh:
        call(conn, "refresh_stream_table", "public.t")
    assert_pg_error(refresh.value, "22023")
    call(conn, "resume_stream_table", "public.t")
    assert st(conn, "public.t")["status"] == "ACTIVE"  # type: ignore[index]


def test_storage_row_id_is_bytea(pgtrickle_conn: Conn) -> None:
    """Row identity V2 (0.87.16): `__pgt_row_id BYTEA NOT NULL` in every storage table
    (the property upstream's row_identity_v2_recreation_preflight checks)."""
    conn = pgtrickle_conn
    make_source(conn)
    create_st(conn, "public.t")
    column = row(
        conn,
        "SELECT format_type(atttypid, atttypmod) AS typ, attnotnull FROM pg_attribute"
        " WHERE attrelid = 'public.t'::regclass AND attname = '__pgt_row_id'",
    )
    assert column == {"typ": "bytea", "attnotnull": True}
    ids = [r["__pgt_row_id"] for r in rows(conn, "SELECT __pgt_row_id FROM public.t")]
    assert len(ids) == 3
    assert len(set(ids)) == 3


def test_history_reports_rows_updated(pgtrickle_conn: Conn) -> None:
    conn = pgtrickle_conn
    make_source(conn)
    create_st(conn, "public.t")
    conn.execute("INSERT INTO src VALUES (4, 40)")
    call(conn, "refresh_stream_table", "public.t")
    latest = row(conn, "SELECT * FROM pgtrickle.get_refresh_history('public.t', 1)")
    assert latest is not None
    assert (latest["status"], latest["rows_inserted"], latest["rows_updated"]) == (
        "COMPLETED",
        1,
        0,
    )
    assert latest["duration_ms"] is not None
