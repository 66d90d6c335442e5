"""pgt_dependencies (pg_trickle src/api/alter.rs, create_stream_table_impl;
docs/pg_trickle-contract.md): dependency rows and topological ordering."""

from __future__ import annotations

from ._helpers import Conn, create_st, deps, make_source, rows, scalar, st


def test_13_21_one_table_row_per_source(pgtrickle_conn: Conn) -> None:
    make_source(pgtrickle_conn, "public.src")
    make_source(pgtrickle_conn, "public.src2")
    create_st(
        pgtrickle_conn,
        "public.t",
        "SELECT s.id, s.v, o.v AS w FROM src s JOIN src2 o ON o.id = s.id",
    )
    found = deps(pgtrickle_conn, "public.t")
    assert sorted((int(d["source_relid"]), d["source_type"]) for d in found) == sorted(
        [
            (scalar(pgtrickle_conn, "SELECT 'public.src'::regclass::oid"), "TABLE"),
            (scalar(pgtrickle_conn, "SELECT 'public.src2'::regclass::oid"), "TABLE"),
        ]
    )


def test_13_21_self_join_gives_one_row(pgtrickle_conn: Conn) -> None:
    make_source(pgtrickle_conn)
    create_st(pgtrickle_conn, "public.t", "SELECT a.id, b.v FROM src a JOIN src b ON b.id = a.id")
    assert [d["source_type"] for d in deps(pgtrickle_conn, "public.t")] == ["TABLE"]


def test_13_21_stream_table_source_uses_pgt_relid(pgtrickle_conn: Conn) -> None:
    make_source(pgtrickle_conn)
    create_st(pgtrickle_conn, "public.a")
    create_st(pgtrickle_conn, "public.b", "SELECT id, v FROM public.a")
    upstream = st(pgtrickle_conn, "public.a")
    assert upstream is not None
    (edge,) = deps(pgtrickle_conn, "public.b")
    assert edge["source_type"] == "STREAM_TABLE"
    assert edge["source_relid"] == upstream["pgt_relid"]
    assert upstream["pgt_relid"] == scalar(pgtrickle_conn, "SELECT 'public.a'::regclass::oid")


def test_13_21_view_source_is_recorded(pgtrickle_conn: Conn) -> None:
    make_source(pgtrickle_conn)
    pgtrickle_conn.execute("CREATE VIEW src_view AS SELECT id, v FROM src WHERE v > 10")
    query = "SELECT id, v FROM src_view"
    create_st(pgtrickle_conn, "public.t", query)
    found = {(d["source_type"], int(d["source_relid"])) for d in deps(pgtrickle_conn, "public.t")}
    view_oid = scalar(pgtrickle_conn, "SELECT 'public.src_view'::regclass::oid")
    table_oid = scalar(pgtrickle_conn, "SELECT 'public.src'::regclass::oid")
    assert ("VIEW", view_oid) in found
    assert ("TABLE", table_oid) in found
    entry = st(pgtrickle_conn, "public.t")
    assert entry is not None
    assert entry["original_query"] == query


def test_13_21_topological_order_query(pgtrickle_conn: Conn) -> None:
    make_source(pgtrickle_conn)
    # Created in an order that differs from the dependency order of the names.
    create_st(pgtrickle_conn, "public.z_root")
    create_st(pgtrickle_conn, "public.m_mid", "SELECT id, v FROM public.z_root")
    create_st(pgtrickle_conn, "public.a_leaf", "SELECT id, v FROM public.m_mid")
    create_st(pgtrickle_conn, "public.b_side", "SELECT id, v FROM public.z_root")
    found = rows(
        pgtrickle_conn,
        """
        WITH RECURSIVE edges AS (
            SELECT d.pgt_id AS child, up.pgt_id AS parent
            FROM pgtrickle.pgt_dependencies d
            JOIN pgtrickle.pgt_stream_tables up ON up.pgt_relid = d.source_relid
            WHERE d.source_type = 'STREAM_TABLE'
        ), depth AS (
            SELECT s.pgt_id, 0 AS level FROM pgtrickle.pgt_stream_tables s
            WHERE NOT EXISTS (SELECT 1 FROM edges e WHERE e.child = s.pgt_id)
            UNION ALL
            SELECT e.child, d.level + 1 FROM depth d JOIN edges e ON e.parent = d.pgt_id
        )
        SELECT s.pgt_name, max(d.level) AS level
        FROM depth d JOIN pgtrickle.pgt_stream_tables s USING (pgt_id)
        GROUP BY s.pgt_name ORDER BY level, s.pgt_name
        """,
    )
    assert [(r["pgt_name"], r["level"]) for r in found] == [
        ("z_root", 0),
        ("b_side", 1),
        ("m_mid", 1),
        ("a_leaf", 2),
    ]


def test_06_2_dependency_defaults(pgtrickle_conn: Conn) -> None:
    make_source(pgtrickle_conn)
    create_st(pgtrickle_conn, "public.t")
    (edge,) = deps(pgtrickle_conn, "public.t")
    assert edge["source_placement"] == "local"
    assert edge["cdc_mode"] in {"TRIGGER", "TRANSITIONING", "WAL"}
