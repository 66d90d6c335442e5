"""The storage table (pg_trickle src/api/mod.rs, setup_storage_table)."""

from __future__ import annotations

from ._helpers import Conn, create_st, make_source, row, rows, scalar
from ._versions import V0108, V067, expected

# The row id column per version (type, is_nullable): 0.67.0 src/api/mod.rs
# setup_storage_table (`__pgt_row_id BIGINT`); 0.108.3 the same function with row identity V2
# (`__pgt_row_id BYTEA NOT NULL`, 0.87.16).
ROW_ID = {V067: ("bigint", "YES"), V0108: ("bytea", "NO")}


def column_info(conn: Conn, table: str) -> list[dict[str, object]]:
    return rows(
        conn,
        "SELECT column_name, data_type, character_maximum_length, numeric_precision,"
        " numeric_scale, is_nullable FROM information_schema.columns"
        " WHERE table_schema = 'public' AND table_name = %s ORDER BY ordinal_position",
        [table],
    )


def test_13_22_row_id_then_query_columns_typmods_dropped(
    pgtrickle_conn: Conn, pgtrickle_version: str
) -> None:
    row_id_type, row_id_nullable = expected(pgtrickle_version, ROW_ID)
    pgtrickle_conn.execute(
        "CREATE TABLE src (id integer PRIMARY KEY, amount numeric(10,2), label varchar(20))"
    )
    pgtrickle_conn.execute("INSERT INTO src VALUES (1, 1.50, 'x')")
    create_st(pgtrickle_conn, "public.t", "SELECT id, amount, label, id + 1 FROM src")
    found = column_info(pgtrickle_conn, "t")
    assert [(c["column_name"], c["data_type"]) for c in found] == [
        ("__pgt_row_id", row_id_type),
        ("id", "integer"),
        ("amount", "numeric"),
        ("label", "character varying"),
        ("?column?", "integer"),
    ]
    assert found[0]["is_nullable"] == row_id_nullable
    amount, label = found[2], found[3]
    assert (amount["numeric_precision"], amount["numeric_scale"]) == (None, None)
    assert label["character_maximum_length"] is None


def test_13_22_aggregate_carries_pgt_count(pgtrickle_conn: Conn) -> None:
    make_source(pgtrickle_conn)
    create_st(
        pgtrickle_conn,
        "public.t",
        "SELECT v % 20 AS grp, count(*) AS n, sum(id) AS s FROM src GROUP BY v % 20",
    )
    names = [str(c["column_name"]) for c in column_info(pgtrickle_conn, "t")]
    assert names[:4] == ["__pgt_row_id", "grp", "n", "s"]
    assert "__pgt_count" in names
    assert all(name.startswith("__pgt_") for name in names[4:]), names
    count = row(
        pgtrickle_conn,
        "SELECT data_type, is_nullable, column_default FROM information_schema.columns"
        " WHERE table_schema = 'public' AND table_name = 't' AND column_name = '__pgt_count'",
    )
    assert count == {"data_type": "bigint", "is_nullable": "NO", "column_default": "0"}


def _row_id_indexes(conn: Conn) -> list[dict[str, object]]:
    """Indexes of public.t keyed on __pgt_row_id alone, with their INCLUDE columns."""
    return rows(
        conn,
        "SELECT i.indisunique AS is_unique,"
        " (SELECT array_agg(a.attname::text ORDER BY k.n) FROM unnest(i.indkey)"
        "  WITH ORDINALITY AS k(attnum, n) JOIN pg_attribute a"
        "  ON a.attrelid = i.indrelid AND a.attnum = k.attnum WHERE k.n > i.indnkeyatts)"
        " AS included"
        " FROM pg_index i JOIN pg_attribute a"
        " ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]"
        " WHERE i.indrelid = 'public.t'::regclass AND i.indnkeyatts = 1"
        " AND a.attname = '__pgt_row_id'",
    )


def test_09_row_id_unique_index_with_keyed_source(pgtrickle_conn: Conn) -> None:
    """Mirrors pg_trickle src/api/mod.rs, setup_storage_table: a unique index on
    __pgt_row_id; with pg_trickle.auto_index on (the default) and at most 8 query columns it
    covers them (INCLUDE), in the query's order."""
    make_source(pgtrickle_conn)
    create_st(pgtrickle_conn, "public.t")
    assert _row_id_indexes(pgtrickle_conn) == [{"is_unique": True, "included": ["id", "v"]}]


def test_09_row_id_index_covers_at_most_eight_columns(pgtrickle_conn: Conn) -> None:
    """Mirrors pg_trickle src/api/mod.rs, setup_storage_table (COVERING_INDEX_MAX_COLUMNS)."""
    make_source(pgtrickle_conn)
    columns = ", ".join(["id", "v"] + [f"v + {i} AS c{i}" for i in range(7)])
    create_st(pgtrickle_conn, "public.t", f"SELECT {columns} FROM src")
    assert _row_id_indexes(pgtrickle_conn) == [{"is_unique": True, "included": None}]


def test_09_storage_is_an_ordinary_table_owned_by_caller(pgtrickle_conn: Conn) -> None:
    make_source(pgtrickle_conn)
    create_st(pgtrickle_conn, "public.t")
    found = row(
        pgtrickle_conn,
        "SELECT c.relkind, pg_get_userbyid(c.relowner) = current_user AS mine"
        " FROM pg_class c WHERE c.oid = 'public.t'::regclass",
    )
    assert found == {"relkind": "r", "mine": True}
    assert (
        scalar(
            pgtrickle_conn,
            "SELECT pgt_relid = 'public.t'::regclass::oid FROM pgtrickle.pgt_stream_tables",
        )
        is True
    )
