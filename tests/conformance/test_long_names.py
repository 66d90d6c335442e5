"""Stream tables with names of the full 63 bytes (pg_trickle src/api/helpers.rs,
parse_qualified_name; src/api/mod.rs, setup_storage_table).

PostgreSQL truncates identifiers to 63 bytes, so an object named "<prefix><stream table
name>" or "<stream table name><suffix>" can collide with the one of another stream table
whose name shares a long prefix. Two 63-byte names sharing 60 bytes must live side by side:
created, refreshed and guarded independently, dropped one at a time, and leave nothing behind.
"""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from ._helpers import Conn, call, content, create_st, query_result, rows, scalar, snapshot, st

PREFIX = "long_" + "n" * 55  # 60 bytes
A = PREFIX + "_aa"  # 63 bytes
B = PREFIX + "_bb"
SRC_A = "s" * 60 + "_aa"
SRC_B = "s" * 60 + "_bb"


def _objects(conn: Conn) -> dict[str, Any]:
    """Relations and triggers outside the system schemas, each with its name and owner.

    Change buffers (`pgtrickle_changes`) are left out: pg_trickle 0.67.0 never drops them
    (see test_drop.py::test_13_15_drop_removes_the_change_buffer), and their names are
    hashes that two long source names cannot share."""
    return {
        "relations": rows(
            conn,
            "SELECT n.nspname, c.relname, c.relkind FROM pg_class c"
            " JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast',"
            " 'pgtrickle_changes')"
            " ORDER BY 1, 2",
        ),
        "triggers": rows(
            conn,
            "SELECT t.tgrelid::regclass::text AS rel, t.tgname FROM pg_trigger t"
            " WHERE NOT t.tgisinternal ORDER BY 1, 2",
        ),
    }


def _functions(conn: Conn) -> list[dict[str, Any]]:
    return rows(
        conn,
        "SELECT p.oid::regprocedure::text AS fn FROM pg_proc p"
        " JOIN pg_namespace n ON n.oid = p.pronamespace"
        " WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pgtrickle',"
        " 'pgtrickle_changes', 'pgtrickle_test') ORDER BY 1",
    )


def _make_sources(conn: Conn) -> None:
    for name, base in ((SRC_A, 10), (SRC_B, 20)):
        conn.execute(f"CREATE TABLE {name} (id integer PRIMARY KEY, v integer)")
        conn.execute(f"INSERT INTO {name} VALUES (1, {base}), (2, {base + 1})")


def _query(src: str) -> str:
    return f"SELECT id, v FROM {src}"


def _assert_guarded(conn: Conn, name: str) -> None:
    with pytest.raises(psycopg.Error) as err:
        conn.execute(f"INSERT INTO {name} (id, v) VALUES (99, 99)")
    assert err.value.sqlstate == "P0001"


def _lifecycle(conn: Conn, **kwargs: Any) -> None:
    """Create, change, refresh and guard both tables, then drop A and check B alone."""
    create_st(conn, f"public.{A}", _query(SRC_A), **kwargs)
    create_st(conn, f"public.{B}", _query(SRC_B), **kwargs)
    assert st(conn, A) is not None
    assert st(conn, B) is not None
    conn.execute(f"INSERT INTO {SRC_A} VALUES (3, 13)")
    conn.execute(f"UPDATE {SRC_B} SET v = v * 10")
    call(conn, "refresh_stream_table", f"public.{A}")
    call(conn, "refresh_stream_table", f"public.{B}")
    assert content(conn, A) == query_result(conn, _query(SRC_A))
    assert content(conn, B) == query_result(conn, _query(SRC_B))
    _assert_guarded(conn, A)
    _assert_guarded(conn, B)

    call(conn, "drop_stream_table", f"public.{A}")
    assert st(conn, A) is None
    assert scalar(conn, "SELECT to_regclass(%s)", [f"public.{A}"]) is None
    # B keeps working, guard included, after A and everything A owned are gone.
    conn.execute(f"DELETE FROM {SRC_B} WHERE id = 1")
    call(conn, "refresh_stream_table", f"public.{B}")
    assert content(conn, B) == query_result(conn, _query(SRC_B))
    _assert_guarded(conn, B)
    call(conn, "drop_stream_table", f"public.{B}")
    assert st(conn, B) is None


def test_02_two_63_byte_names_sharing_60_bytes_live_side_by_side(pgtrickle_conn: Conn) -> None:
    """Mirrors pg_trickle src/api/create.rs and alter.rs (create_stream_table_impl,
    setup_storage_table, install_dml_guard_trigger) and src/api/mod.rs drop: each stream
    table's storage, triggers and change capture are its own."""
    conn = pgtrickle_conn
    _make_sources(conn)
    before = _objects(conn)
    _lifecycle(conn)
    after = _objects(conn)
    assert after == before
    assert snapshot(conn)["catalog"] == []


@pytest.mark.requires_double
def test_02_long_names_leave_no_function_behind(pgtrickle_conn: Conn) -> None:
    """The double only: pg_trickle 0.67.0 names the guard function `_pgt_guard_<name>`
    (src/api/helpers.rs, install_dml_guard_trigger), truncated for long names, and never
    drops it. The double names it after the table's OID and drops it with the table."""
    conn = pgtrickle_conn
    _make_sources(conn)
    before = _functions(conn)
    create_st(conn, f"public.{A}", _query(SRC_A))
    create_st(conn, f"public.{B}", _query(SRC_B))
    assert len(_functions(conn)) == len(before) + 2
    call(conn, "drop_stream_table", f"public.{A}")
    assert len(_functions(conn)) == len(before) + 1
    _assert_guarded(conn, B)
    call(conn, "drop_stream_table", f"public.{B}")
    assert _functions(conn) == before


@pytest.mark.requires_double
@pytest.mark.parametrize("partition_by", ["HASH:id:4", "id", "LIST:id"])
def test_02_long_names_with_partitions(pgtrickle_conn: Conn, partition_by: str) -> None:
    """The double only: pg_trickle 0.67.0 names partitions `<name>_p<i>` / `<name>_default`
    (src/api/mod.rs, setup_storage_table), which for a 63-byte name truncates to the parent's
    own name and fails. The double falls back to OID-based names when a name does not fit."""
    conn = pgtrickle_conn
    _make_sources(conn)
    before = _objects(conn)
    functions = _functions(conn)
    _lifecycle(conn, partition_by=partition_by)
    assert _objects(conn) == before
    assert _functions(conn) == functions
