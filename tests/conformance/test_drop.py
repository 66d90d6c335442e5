"""drop_stream_table (pg_trickle src/api/alter.rs, drop_stream_table_impl_inner)."""

from __future__ import annotations

import psycopg
import pytest

from airflow_provider_pgtrickle.testing.server import TestDatabase

from ._helpers import (
    Conn,
    as_role,
    assert_pg_error,
    call,
    create_st,
    make_source,
    other_role,
    regclass,
    scalar,
    snapshot,
    st,
)
from ._versions import refused


def count_rows(conn: Conn, table: str) -> int:
    query = {
        "catalog": "SELECT count(*) FROM pgtrickle.pgt_stream_tables",
        "deps": "SELECT count(*) FROM pgtrickle.pgt_dependencies",
        "history": "SELECT count(*) FROM pgtrickle.pgt_refresh_history",
    }[table]
    return int(scalar(conn, query))


def test_13_15_drop_removes_everything(pgtrickle_db: TestDatabase, pgtrickle_conn: Conn) -> None:
    make_source(pgtrickle_conn)
    create_st(pgtrickle_conn, "public.t")
    call(pgtrickle_conn, "refresh_stream_table", "public.t")
    call(pgtrickle_conn, "drop_stream_table", "public.t")
    with pgtrickle_db.connect() as other:
        assert st(other, "public.t") is None
        assert regclass(other, "public.t") is None
        assert count_rows(other, "catalog") == 0
        assert count_rows(other, "deps") == 0
        assert count_rows(other, "history") == 0
        # Change capture is gone or harmless: the source still accepts writes.
        other.execute("INSERT INTO src VALUES (7, 70)")
        other.execute("UPDATE src SET v = v + 1")
        other.execute("DELETE FROM src WHERE id = 7")


def _change_buffers(conn: Conn) -> list[str]:
    found = scalar(
        conn,
        "SELECT coalesce(array_agg(c.relname::text ORDER BY c.relname), '{}') FROM pg_class c"
        " WHERE c.relnamespace = 'pgtrickle_changes'::regnamespace AND c.relkind = 'r'"
        " AND c.relname LIKE 'changes%%'",
    )
    return list(found)


@pytest.mark.requires_double
def test_13_15_drop_removes_the_change_buffer(pgtrickle_conn: Conn) -> None:
    """The double only: pg_trickle 0.67.0 names a source's change buffer
    `changes_<source_stable_name>` (src/api/helpers.rs, setup_cdc_for_source, with
    src/cdc/mod.rs, create_change_buffer_table), but when the last stream table reading the
    source goes, cleanup_cdc_for_source drops `changes_<oid>`, which does not exist: the
    buffer table, its sequence and index stay behind. The double drops the buffer."""
    make_source(pgtrickle_conn)
    before = _change_buffers(pgtrickle_conn)
    create_st(pgtrickle_conn, "public.a")
    create_st(pgtrickle_conn, "public.b")
    assert len(_change_buffers(pgtrickle_conn)) == len(before) + 1
    call(pgtrickle_conn, "drop_stream_table", "public.a")
    assert len(_change_buffers(pgtrickle_conn)) == len(before) + 1
    call(pgtrickle_conn, "drop_stream_table", "public.b")
    assert _change_buffers(pgtrickle_conn) == before


def test_13_15_drop_keeps_other_tables(pgtrickle_conn: Conn) -> None:
    make_source(pgtrickle_conn)
    create_st(pgtrickle_conn, "public.a")
    create_st(pgtrickle_conn, "public.b")
    call(pgtrickle_conn, "drop_stream_table", "public.a")
    assert st(pgtrickle_conn, "public.b") is not None
    assert regclass(pgtrickle_conn, "public.b") is not None
    assert count_rows(pgtrickle_conn, "deps") == 1
    assert count_rows(pgtrickle_conn, "history") == 1


@pytest.mark.parametrize(
    ("name", "printed"), [("public.nope", "public.nope"), ("nope", "public.nope")]
)
def test_13_15_drop_unknown_table(pgtrickle_conn: Conn, name: str, printed: str) -> None:
    with pytest.raises(psycopg.Error) as err:
        call(pgtrickle_conn, "drop_stream_table", name)
    assert_pg_error(err.value, "42P01", f"stream table not found: {printed}")


def test_13_15_drop_with_dependents_needs_cascade(
    pgtrickle_db: TestDatabase, pgtrickle_conn: Conn
) -> None:
    make_source(pgtrickle_conn)
    create_st(pgtrickle_conn, "public.a")
    create_st(pgtrickle_conn, "public.b", "SELECT id, v FROM public.a")
    before = snapshot(pgtrickle_conn, "public.a", "public.b")
    with pytest.raises(psycopg.Error) as err:
        call(pgtrickle_conn, "drop_stream_table", "public.a")
    assert_pg_error(
        err.value,
        "22023",
        "invalid argument: stream table public.a has dependent stream tables: public.b."
        " Use cascade => true to drop them automatically.",
    )
    with pgtrickle_db.connect() as other:
        assert snapshot(other, "public.a", "public.b") == before


def test_13_15_drop_cascade_drops_dependents_recursively(
    pgtrickle_db: TestDatabase, pgtrickle_conn: Conn
) -> None:
    make_source(pgtrickle_conn)
    create_st(pgtrickle_conn, "public.a")
    create_st(pgtrickle_conn, "public.b", "SELECT id, v FROM public.a")
    create_st(pgtrickle_conn, "public.c", "SELECT id, v FROM public.b")
    create_st(pgtrickle_conn, "public.other")
    call(pgtrickle_conn, "drop_stream_table", "public.a", cascade=True)
    with pgtrickle_db.connect() as other:
        for name in ("public.a", "public.b", "public.c"):
            assert st(other, name) is None, name
            assert regclass(other, name) is None, name
        assert st(other, "public.other") is not None
        assert count_rows(other, "catalog") == 1
        assert count_rows(other, "deps") == 1
        assert count_rows(other, "history") == 1


def test_13_15_plain_drop_table_removes_catalog_row(
    pgtrickle_db: TestDatabase, pgtrickle_conn: Conn
) -> None:
    make_source(pgtrickle_conn)
    create_st(pgtrickle_conn, "public.t")
    pgtrickle_conn.execute("DROP TABLE public.t")
    with pgtrickle_db.connect() as other:
        assert st(other, "public.t") is None
        assert count_rows(other, "deps") == 0
        assert count_rows(other, "history") == 0


@pytest.mark.parametrize(
    "statement",
    [
        "SELECT pgtrickle.drop_stream_table(NULL)",
        "SELECT pgtrickle.drop_stream_table('public.t', NULL)",
        "SELECT pgtrickle.drop_stream_table(NULL, true)",
    ],
)
def test_04_5_drop_is_strict(pgtrickle_conn: Conn, statement: str) -> None:
    make_source(pgtrickle_conn)
    create_st(pgtrickle_conn, "public.t")
    before = snapshot(pgtrickle_conn, "public.t")
    pgtrickle_conn.execute(statement)  # type: ignore[arg-type]
    assert snapshot(pgtrickle_conn, "public.t") == before


def test_04_5_drop_takes_views_on_the_stream_table(pgtrickle_conn: Conn) -> None:
    make_source(pgtrickle_conn)
    create_st(pgtrickle_conn, "public.t")
    pgtrickle_conn.execute("CREATE VIEW t_view AS SELECT id FROM public.t")
    call(pgtrickle_conn, "drop_stream_table", "public.t")
    assert regclass(pgtrickle_conn, "public.t_view") is None


def test_04_5_non_owner_may_not_drop(pgtrickle_conn: Conn, pgtrickle_version: str) -> None:
    """Mirrors, per version: 0.67.0 src/api/helpers.rs check_stream_table_ownership (called by
    drop_stream_table_impl_inner); 0.108.3 the ACL block of sql/archive/pg_trickle--0.108.3.sql
    (drop_stream_table revoked from PUBLIC): 42501 either way, nothing dropped."""
    make_source(pgtrickle_conn)
    create_st(pgtrickle_conn, "public.t")
    before = snapshot(pgtrickle_conn, "public.t")
    with other_role(pgtrickle_conn) as role, pytest.raises(psycopg.Error) as err:
        as_role(pgtrickle_conn, role, "drop_stream_table", "public.t")
    assert_pg_error(err.value, "42501", refused(pgtrickle_version, "drop_stream_table"))
    assert snapshot(pgtrickle_conn, "public.t") == before


def test_dropped_source_sets_every_reader_to_error_without_message(
    pgtrickle_db: TestDatabase, pgtrickle_conn: Conn
) -> None:
    """Mirrors pg_trickle src/hooks.rs, handle_dropped_table: every stream table reading the
    dropped table goes to ERROR whatever its status (StreamTableMeta::update_status writes no
    message). The cascade after it (find_transitive_downstream_sts) looks for readers with
    find_downstream_pgt_ids, which matches only TABLE / FOREIGN_TABLE dependencies, so a
    stream table reading one of them (a STREAM_TABLE dependency) keeps its status; stream
    tables on other sources are untouched."""
    conn = pgtrickle_conn
    make_source(conn)
    make_source(conn, "public.other")
    create_st(conn, "public.a")
    create_st(conn, "public.b", "SELECT id, v FROM public.a")
    create_st(conn, "public.c")
    call(conn, "alter_stream_table", "public.c", status="SUSPENDED")
    create_st(conn, "public.d", "SELECT id, v FROM public.other")
    conn.execute("DROP TABLE public.src")
    with pgtrickle_db.connect() as other:
        for name in ("public.a", "public.c"):
            entry = st(other, name)
            assert entry is not None, name
            assert entry["status"] == "ERROR", name
            assert entry["last_error_message"] is None, name
        for name in ("public.b", "public.d"):
            entry = st(other, name)
            assert entry is not None, name
            assert entry["status"] == "ACTIVE", name


def test_dropped_stream_table_leaves_its_readers_alone(
    pgtrickle_db: TestDatabase, pgtrickle_conn: Conn
) -> None:
    """Mirrors pg_trickle src/hooks.rs, handle_dropped_table: a dropped storage table only
    loses its catalog row (handle_st_storage_dropped); stream tables reading it keep their
    status."""
    conn = pgtrickle_conn
    make_source(conn)
    create_st(conn, "public.a")
    create_st(conn, "public.b", "SELECT id, v FROM public.a")
    conn.execute("DROP TABLE public.a")
    with pgtrickle_db.connect() as other:
        assert st(other, "public.a") is None
        reader = st(other, "public.b")
        assert reader is not None
        assert reader["status"] == "ACTIVE"
