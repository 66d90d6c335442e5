"""Name parsing and resolution (pg_trickle src/api/helpers.rs, parse_qualified_name,
get_table_oid)."""

from __future__ import annotations

import psycopg
import pytest

from ._helpers import (
    Conn,
    assert_pg_error,
    call,
    create_st,
    make_source,
    regclass,
    rows,
    scalar,
    snapshot,
    st,
)


def test_13_02_unqualified_name_resolves_through_search_path(pgtrickle_conn: Conn) -> None:
    conn = pgtrickle_conn
    conn.execute("CREATE SCHEMA s1")
    make_source(conn, "public.src")
    # The first search_path entry does not exist, so current_schema() is s1.
    conn.execute("SET search_path = nosuch, s1, public")
    create_st(conn, "t", "SELECT id, v FROM public.src")
    assert st(conn, "s1.t") is not None
    assert st(conn, "public.t") is None
    assert regclass(conn, "s1.t") is not None
    call(conn, "refresh_stream_table", "t")
    call(conn, "alter_stream_table", "t", schedule="2h")
    assert st(conn, "s1.t")["schedule"] == "2h"  # type: ignore[index]
    call(conn, "drop_stream_table", "t")
    assert st(conn, "s1.t") is None


def test_13_02_catalog_stores_unquoted_names(pgtrickle_conn: Conn) -> None:
    make_source(pgtrickle_conn)
    create_st(pgtrickle_conn, "public.order_totals")
    found = rows(pgtrickle_conn, "SELECT pgt_schema, pgt_name FROM pgtrickle.pgt_stream_tables")
    assert found == [{"pgt_schema": "public", "pgt_name": "order_totals"}]


def test_13_02_unqualified_errors_print_schema_dot_name(pgtrickle_conn: Conn) -> None:
    pgtrickle_conn.execute("CREATE SCHEMA s1")
    pgtrickle_conn.execute("SET search_path = s1, public")
    with pytest.raises(psycopg.Error) as err:
        call(pgtrickle_conn, "refresh_stream_table", "nope")
    assert_pg_error(err.value, "42P01", "stream table not found: s1.nope")


def test_13_02_no_case_folding(pgtrickle_conn: Conn) -> None:
    make_source(pgtrickle_conn)
    create_st(pgtrickle_conn, "public.t")
    with pytest.raises(psycopg.Error) as err:
        call(pgtrickle_conn, "refresh_stream_table", "public.T")
    assert_pg_error(err.value, "42P01", "stream table not found: public.T")


def test_13_02_name_splits_at_first_dot(pgtrickle_conn: Conn) -> None:
    pgtrickle_conn.execute("CREATE SCHEMA s1")
    with pytest.raises(psycopg.Error) as err:
        call(pgtrickle_conn, "refresh_stream_table", "s1.t.x")
    assert_pg_error(err.value, "42P01", "stream table not found: s1.t.x")


def test_13_02_names_needing_quotes_fail_without_side_effects(pgtrickle_conn: Conn) -> None:
    make_source(pgtrickle_conn)
    before = snapshot(pgtrickle_conn)
    with pytest.raises(psycopg.Error):
        create_st(pgtrickle_conn, "public.BadName")
    assert snapshot(pgtrickle_conn) == before


def test_02_missing_schema_is_postgres_error(pgtrickle_conn: Conn) -> None:
    make_source(pgtrickle_conn)
    before = snapshot(pgtrickle_conn)
    with pytest.raises(psycopg.Error) as err:
        create_st(pgtrickle_conn, "nosuch.t")
    assert_pg_error(err.value, "3F000")
    assert snapshot(pgtrickle_conn) == before


def test_02_history_defaults_unqualified_name_to_public(pgtrickle_conn: Conn) -> None:
    conn = pgtrickle_conn
    conn.execute("CREATE SCHEMA s1")
    make_source(conn, "public.src")
    create_st(conn, "s1.t", "SELECT id, v FROM public.src")
    conn.execute("SET search_path = s1, public")
    assert scalar(conn, "SELECT count(*) FROM pgtrickle.get_refresh_history('t')") == 0
    assert scalar(conn, "SELECT count(*) FROM pgtrickle.get_refresh_history('s1.t')") == 1


def test_reserved_word_name_works_everywhere(pgtrickle_conn: Conn) -> None:
    """Mirrors pg_trickle src/api/helpers.rs: get_table_oid (an unquoted
    `(schema || '.' || name)::regclass` cast after CREATE TABLE with quoted identifiers) and
    install_dml_guard_trigger (`<schema>._pgt_guard_<name>`, unquoted), then
    parse_qualified_name + StreamTableMeta::get_by_name (plain text) for the other calls: a
    reserved word needs no quoting in either place."""
    make_source(pgtrickle_conn)
    create_st(pgtrickle_conn, "public.user")
    entry = st(pgtrickle_conn, "public.user")
    assert entry is not None
    assert entry["pgt_relid"] == regclass(pgtrickle_conn, 'public."user"')
    call(pgtrickle_conn, "refresh_stream_table", "public.user")
    call(pgtrickle_conn, "alter_stream_table", "public.user", schedule="2h")
    call(pgtrickle_conn, "drop_stream_table", "public.user")
    assert st(pgtrickle_conn, "public.user") is None


@pytest.mark.parametrize(
    ("name", "sqlstate"),
    [("public.BadName", "42P01"), ("public.my table", "42602"), ("public.my-table", "42601")],
)
def test_name_needing_quotes_fails_in_the_regclass_cast(
    pgtrickle_conn: Conn, name: str, sqlstate: str
) -> None:
    """Mirrors pg_trickle src/api/helpers.rs: get_table_oid, then install_dml_guard_trigger:
    the storage table is created quoted, then looked up unquoted; upper case folds to a
    relation that does not exist (42P01), a space is invalid name syntax (42602), and a name
    that resolves but is no plain identifier (a hyphen) breaks the unquoted guard function
    name (42601). The transaction leaves nothing behind."""
    make_source(pgtrickle_conn)
    before = snapshot(pgtrickle_conn)
    with pytest.raises(psycopg.Error) as err:
        create_st(pgtrickle_conn, name)
    assert_pg_error(err.value, sqlstate)
    assert snapshot(pgtrickle_conn) == before
