"""Change buffers and frontiers, as the provider's `wait_for_sources` reads them.

pg_trickle's trigger-based capture writes each source change with its WAL insert position
(`lsn`) into `pgtrickle_changes.changes_<source_stable_name or oid>` (pg_trickle
src/cdc/mod.rs); a refresh records per source the position it has read in the stream table's
`frontier` (`{"sources": {"<oid>": {"lsn": ...}}}`, src/version.rs).
"""

from __future__ import annotations

from psycopg import sql

from airflow_provider_pgtrickle.testing.server import TestDatabase

from ._helpers import Conn, call, create_st, make_source, scalar


def buffer_of(conn: Conn, source: str) -> sql.Composed:
    name = scalar(
        conn,
        "SELECT 'changes_' || coalesce(to_jsonb(ct) ->> 'source_stable_name',"
        " %s::regclass::oid::text)"
        " FROM (SELECT 1) AS one LEFT JOIN pgtrickle.pgt_change_tracking AS ct"
        " ON ct.source_relid = %s::regclass",
        [source, source],
    )
    return sql.Identifier("pgtrickle_changes", name)


def frontier_lsn(conn: Conn, table: str, source: str) -> str | None:
    schema, name = table.split(".")
    return scalar(
        conn,
        "SELECT frontier -> 'sources' -> (%s::regclass::oid::text) ->> 'lsn'"
        " FROM pgtrickle.pgt_stream_tables WHERE pgt_schema = %s AND pgt_name = %s",
        [source, schema, name],
    )


def test_changes_above_the_frontier_until_a_refresh_reads_them(
    pgtrickle_db: TestDatabase, pgtrickle_conn: Conn
) -> None:
    conn = pgtrickle_conn
    make_source(conn)
    create_st(conn, "public.t", cdc_mode="trigger")
    conn.execute("INSERT INTO src VALUES (4, 40)")
    with pgtrickle_db.connect() as other:
        buffer = buffer_of(other, "public.src")
        seen = frontier_lsn(other, "public.t", "public.src")
        assert seen is not None
        above = scalar(
            other,
            sql.SQL("SELECT max(lsn)::text FROM {} WHERE lsn > %s::pg_lsn").format(buffer),
            [seen],
        )
        assert above is not None
    call(conn, "refresh_stream_table", "public.t")
    with pgtrickle_db.connect() as other:
        after = frontier_lsn(other, "public.t", "public.src")
        assert after is not None
        assert scalar(other, "SELECT %s::pg_lsn >= %s::pg_lsn", [after, above]) is True
