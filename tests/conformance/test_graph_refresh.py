"""pg_trickle 0.108.3: external orchestration and the strict graph refresh.

Mirrors upstream src/api/integration.rs (`set_orchestration_mode`, `integration_capabilities`,
`stream_table_contract`, `graph_contract` / graph_contract_data, `refresh_graph_strict`) and
src/api/refresh_ops.rs (`manual_requires_whole_query_full`, `execute_manual_refresh`). Each
test names the function it mirrors. Outcomes are read from a second connection where a commit
matters. Runs only against 0.108.3 (see `_v0108.py`).
"""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from airflow_provider_pgtrickle.testing.server import TestDatabase

from ._helpers import Conn, assert_pg_error, call, create_st, history, make_source, row, rows, st
from ._v0108 import logins, require_0108, result_columns


@pytest.fixture(autouse=True)
def _only_0108(pgtrickle_version: str) -> None:
    require_0108(pgtrickle_version)


def _chain(conn: Conn, *, mode: str = "EXTERNAL") -> None:
    """src -> public.a -> public.b, both stream tables in ``mode``."""
    make_source(conn)
    create_st(conn, "public.a", "SELECT id, v FROM src", orchestration_mode=mode)
    create_st(conn, "public.b", "SELECT id, v * 2 AS w FROM a", orchestration_mode=mode)


def _graph(conn: Conn, *roots: str) -> dict[str, Any]:
    found = row(
        conn,
        "SELECT contract_version, graph_digest, contract FROM pgtrickle.graph_contract("
        "roots => %s::regclass[])",
        [list(roots)],
    )
    assert found is not None
    return found


def _strict(conn: Conn, roots: list[str], digest: bytes, policy: str = "ALLOW") -> dict[str, Any]:
    found = row(
        conn,
        "SELECT * FROM pgtrickle.refresh_graph_strict(roots => %s::regclass[],"
        " expected_graph_digest => %s, full_policy => %s)",
        [roots, digest, policy],
    )
    assert found is not None
    return found


def _oid(conn: Conn, name: str) -> int:
    found = row(conn, "SELECT %s::regclass::oid::bigint AS oid", [name])
    assert found is not None
    return int(found["oid"])


def test_signatures(pgtrickle_conn: Conn) -> None:
    """The CREATE FUNCTION lines of src/api/integration.rs: arguments, defaults, STRICT and
    the result columns a coordinator reads by name."""
    found = {
        r["proname"]: (r["args"], r["proisstrict"])
        for r in rows(
            pgtrickle_conn,
            "SELECT p.proname, pg_get_function_arguments(p.oid) AS args, p.proisstrict"
            " FROM pg_proc p WHERE p.pronamespace = 'pgtrickle'::regnamespace AND p.proname IN"
            " ('set_orchestration_mode', 'stream_table_contract', 'graph_contract',"
            "  'refresh_graph_strict', 'integration_capabilities')",
        )
    }
    assert found == {
        "set_orchestration_mode": ("stream_table regclass, mode text", True),
        "stream_table_contract": ("stream_table regclass", True),
        "graph_contract": ("roots regclass[]", True),
        "refresh_graph_strict": (
            "roots regclass[], expected_graph_digest bytea, full_policy text DEFAULT 'ALLOW'::text",
            True,
        ),
        "integration_capabilities": ("", False),
    }
    assert result_columns(
        pgtrickle_conn, "pgtrickle.refresh_graph_strict(regclass[], bytea, text)"
    ) == [
        ("contract_version", "smallint"),
        ("graph_refresh_id", "bigint"),
        ("graph_digest", "bytea"),
        ("source_boundary", "jsonb"),
        ("source_boundary_digest", "bytea"),
        ("node_results", "jsonb"),
    ]
    assert result_columns(pgtrickle_conn, "pgtrickle.graph_contract(regclass[])") == [
        ("contract_version", "smallint"),
        ("graph_digest", "bytea"),
        ("contract", "jsonb"),
    ]


def test_integration_capabilities(pgtrickle_conn: Conn) -> None:
    """integration_capabilities: Graph V1 1.1 and Delta V1 1.0, both enabled."""
    found = rows(
        pgtrickle_conn,
        "SELECT capability, major_version, minor_version, enabled,"
        " details ->> 'refresh_api' AS api FROM pgtrickle.integration_capabilities()"
        " ORDER BY capability",
    )
    assert [
        (r["capability"], r["major_version"], r["minor_version"], r["enabled"]) for r in found
    ] == [
        ("external_graph_refresh", 1, 1, True),
        ("output_delta_consumer", 1, 0, True),
    ]
    assert found[0]["api"] == "refresh_graph_strict"


def test_set_orchestration_mode(pgtrickle_conn: Conn, pgtrickle_db: TestDatabase) -> None:
    """set_orchestration_mode / set_orchestration_mode_for_meta: normalized, stored, and the
    contract generation moves only when the mode changes."""
    conn = pgtrickle_conn
    make_source(conn)
    create_st(conn, "public.t")
    before = st(conn, "public.t")
    assert before is not None
    assert before["orchestration_mode"] == "MANAGED"
    assert (
        call(conn, "set_orchestration_mode", stream_table="public.t", mode=" external ")
        == "EXTERNAL"
    )
    with pgtrickle_db.connect() as other:
        after = st(other, "public.t")
    assert after is not None
    assert after["orchestration_mode"] == "EXTERNAL"
    assert after["contract_generation"] == before["contract_generation"] + 1
    call(conn, "set_orchestration_mode", stream_table="public.t", mode="EXTERNAL")
    again = st(conn, "public.t")
    assert again is not None
    assert again["contract_generation"] == after["contract_generation"]


def test_set_orchestration_mode_refusals(pgtrickle_conn: Conn) -> None:
    """normalize_mode and validate_mode_for_refresh: PGT_EXT_ORCHESTRATION_MODE."""
    conn = pgtrickle_conn
    make_source(conn)
    create_st(conn, "public.t")
    create_st(conn, "public.i", refresh_mode="IMMEDIATE", schedule=None)
    with pytest.raises(psycopg.Error) as info:
        call(conn, "set_orchestration_mode", stream_table="public.t", mode="sometimes")
    assert_pg_error(
        info.value,
        "55000",
        prefix="PGT_EXT_ORCHESTRATION_MODE: invalid orchestration mode 'SOMETIMES'",
    )
    with pytest.raises(psycopg.Error) as info:
        call(conn, "set_orchestration_mode", stream_table="public.i", mode="EXTERNAL")
    assert_pg_error(
        info.value,
        "55000",
        "PGT_EXT_ORCHESTRATION_MODE: EXTERNAL orchestration cannot be combined with IMMEDIATE"
        " refresh mode",
    )
    assert st(conn, "public.i")["orchestration_mode"] == "MANAGED"  # type: ignore[index]


def test_external_table_is_off_the_scheduler(pgtrickle_conn: Conn, pgtrickle_tick: Any) -> None:
    """scheduler exclusion of EXTERNAL tables (0.93.0): a due EXTERNAL table is not refreshed."""
    conn = pgtrickle_conn
    make_source(conn)
    create_st(conn, "public.t", schedule="1s", initialize=False, orchestration_mode="EXTERNAL")
    create_st(conn, "public.m", schedule="1s", initialize=False)
    attempted = {(r["pgt_schema"], r["pgt_name"]) for r in pgtrickle_tick()}
    assert ("public", "m") in attempted
    assert ("public", "t") not in attempted
    assert history(conn, "public.t") == []


def test_stream_table_contract(pgtrickle_conn: Conn) -> None:
    """stream_table_contract / build_stream_contract: version 1, the catalog's generation, a
    32-byte digest that is stable while nothing changes and moves with the orchestration mode."""
    conn = pgtrickle_conn
    make_source(conn)
    create_st(conn, "public.t")
    query = (
        "SELECT contract_version, contract_generation, contract_digest, contract"
        " FROM pgtrickle.stream_table_contract(stream_table => 'public.t'::regclass)"
    )
    first, second = row(conn, query), row(conn, query)
    assert first is not None
    assert second is not None
    assert first["contract_version"] == 1
    assert len(first["contract_digest"]) == 32
    assert first["contract_digest"] == second["contract_digest"]
    assert first["contract"]["contract_digest"] == first["contract_digest"].hex()
    assert first["contract"]["orchestration_mode"] == "MANAGED"
    assert [s["identity"] for s in first["contract"]["sources"]] == ["public.src"]
    call(conn, "set_orchestration_mode", stream_table="public.t", mode="EXTERNAL")
    third = row(conn, query)
    assert third is not None
    assert third["contract_digest"] != first["contract_digest"]
    assert third["contract_generation"] == first["contract_generation"] + 1


def test_graph_contract_closure_and_order(pgtrickle_conn: Conn) -> None:
    """graph_contract_data: the upstream closure of the roots, edges between members, and a
    topological order (upstream first)."""
    conn = pgtrickle_conn
    _chain(conn)
    a, b = _oid(conn, "public.a"), _oid(conn, "public.b")
    graph = _graph(conn, "public.b")
    contract = graph["contract"]
    assert graph["contract_version"] == 1
    assert len(graph["graph_digest"]) == 32
    assert [m["identity"] for m in contract["members"]] == sorted(
        ["public.a", "public.b"], key=lambda n: a if n == "public.a" else b
    )
    assert contract["topological_order"] == [a, b]
    assert contract["edges"] == [{"upstream": a, "downstream": b}]
    assert [r["identity"] for r in contract["roots"]] == ["public.b"]
    assert _graph(conn, "public.b")["graph_digest"] == graph["graph_digest"]
    assert _graph(conn, "public.a")["graph_digest"] != graph["graph_digest"]


def test_graph_contract_refusals(pgtrickle_conn: Conn) -> None:
    """graph_contract_data: no roots, duplicate roots, a MANAGED member upstream."""
    conn = pgtrickle_conn
    make_source(conn)
    create_st(conn, "public.a", "SELECT id, v FROM src")  # MANAGED
    create_st(conn, "public.b", "SELECT id, v FROM a", orchestration_mode="EXTERNAL")
    with pytest.raises(psycopg.Error) as info:
        _graph(conn)
    assert_pg_error(
        info.value, "55000", "PGT_EXT_GRAPH_INVALID: graph_contract requires at least one root"
    )
    with pytest.raises(psycopg.Error) as info:
        _graph(conn, "public.b", "public.b")
    assert_pg_error(
        info.value, "55000", "PGT_EXT_GRAPH_INVALID: graph_contract rejects duplicate roots"
    )
    with pytest.raises(psycopg.Error) as info:
        _graph(conn, "public.b")
    assert_pg_error(
        info.value,
        "55000",
        "PGT_EXT_ORCHESTRATION_MODE: graph member public.a is MANAGED; set it to EXTERNAL first",
    )
    with pytest.raises(psycopg.Error) as info:
        _graph(conn, "public.src")
    assert info.value.sqlstate == "42P01"


def test_refresh_graph_strict_refreshes_the_closure(
    pgtrickle_conn: Conn, pgtrickle_db: TestDatabase
) -> None:
    """refresh_graph_strict: one graph refresh id, every member refreshed in topological order
    (history `EXTERNAL_GRAPH`), a result per node keyed by OID, committed with the caller."""
    conn = pgtrickle_conn
    _chain(conn)
    a, b = _oid(conn, "public.a"), _oid(conn, "public.b")
    conn.execute("INSERT INTO src VALUES (4, 40)")
    digest = _graph(conn, "public.b")["graph_digest"]
    first = _strict(conn, ["public.b"], digest)
    assert first["contract_version"] == 1
    assert first["graph_digest"] == digest
    assert len(first["source_boundary_digest"]) == 32
    assert first["source_boundary"]["graph_refresh_id"] == first["graph_refresh_id"]
    assert first["source_boundary"]["completeness"] == "PROVEN"
    nodes = first["node_results"]
    assert set(nodes) == {str(a), str(b)}
    assert nodes[str(a)]["identity"] == "public.a"
    assert nodes[str(a)]["result_class"] == "COMPLETED"
    assert nodes[str(b)]["action"] in ("FULL", "DIFFERENTIAL")
    with pgtrickle_db.connect() as other:
        assert sorted(r["w"] for r in rows(other, "SELECT w FROM public.b")) == [20, 40, 60, 80]
        graph_rows = [
            h for h in history(other, "public.b") if h["initiated_by"] == "EXTERNAL_GRAPH"
        ]
        assert len(graph_rows) == 1
        ids = [
            r["pgt_name"]
            for r in rows(
                other,
                "SELECT s.pgt_name FROM pgtrickle.pgt_refresh_history h JOIN"
                " pgtrickle.pgt_stream_tables s USING (pgt_id)"
                " WHERE h.initiated_by = 'EXTERNAL_GRAPH' ORDER BY h.refresh_id",
            )
        ]
        assert ids == ["a", "b"]
    second = _strict(conn, ["public.b"], digest)
    assert second["graph_refresh_id"] > first["graph_refresh_id"]
    assert {n["result_class"] for n in second["node_results"].values()} == {"NO_DATA"}


def test_refresh_graph_strict_digest_mismatch_changes_nothing(
    pgtrickle_conn: Conn, pgtrickle_db: TestDatabase
) -> None:
    """refresh_graph_strict: a digest that is not the current graph's fails with
    PGT_EXT_CONTRACT_MISMATCH before any member is refreshed."""
    conn = pgtrickle_conn
    _chain(conn)
    digest = _graph(conn, "public.b")["graph_digest"]
    call(conn, "alter_stream_table", name="public.a", query="SELECT id, v + 1 AS v FROM src")
    conn.execute("INSERT INTO src VALUES (4, 40)")
    with pytest.raises(psycopg.Error) as info:
        _strict(conn, ["public.b"], digest)
    assert_pg_error(
        info.value,
        "55000",
        "PGT_EXT_CONTRACT_MISMATCH: graph contract changed after it was compiled",
    )
    with pgtrickle_db.connect() as other:
        assert [
            h for h in history(other, "public.b") if h["initiated_by"] == "EXTERNAL_GRAPH"
        ] == []
        assert sorted(r["w"] for r in rows(other, "SELECT w FROM public.b")) == [20, 40, 60]


def test_refresh_graph_strict_rolls_back_with_the_caller(
    pgtrickle_db: TestDatabase,
) -> None:
    """refresh_graph_strict performs no commit of its own: it sees the caller's uncommitted
    writes, and a rollback of the caller's transaction undoes contents and history."""
    with pgtrickle_db.connect() as setup:
        _chain(setup)
        digest = _graph(setup, "public.b")["graph_digest"]
    with pgtrickle_db.connect(autocommit=False) as conn:
        conn.execute("INSERT INTO src VALUES (4, 40)")
        result = _strict(conn, ["public.b"], digest)
        assert sorted(r["w"] for r in rows(conn, "SELECT w FROM public.b")) == [20, 40, 60, 80]
        assert result["node_results"]
        conn.rollback()
    with pgtrickle_db.connect() as other:
        assert sorted(r["w"] for r in rows(other, "SELECT w FROM public.b")) == [20, 40, 60]
        assert [
            h for h in history(other, "public.b") if h["initiated_by"] == "EXTERNAL_GRAPH"
        ] == []


def test_refresh_graph_strict_full_policy(pgtrickle_conn: Conn) -> None:
    """refresh_graph_strict + manual_requires_whole_query_full: `ERROR` refuses a member that
    needs a whole-query FULL refresh (here: never populated); other words are refused."""
    conn = pgtrickle_conn
    make_source(conn)
    create_st(conn, "public.t", initialize=False, orchestration_mode="EXTERNAL")
    digest = _graph(conn, "public.t")["graph_digest"]
    with pytest.raises(psycopg.Error) as info:
        _strict(conn, ["public.t"], digest, "sometimes")
    assert_pg_error(
        info.value, "55000", "PGT_EXT_GRAPH_INVALID: full_policy must be ALLOW or ERROR"
    )
    with pytest.raises(psycopg.Error) as info:
        _strict(conn, ["public.t"], digest, "error")
    assert_pg_error(info.value, "55000", "PGT_EXT_FULL_POLICY: public.t requires a full refresh")
    assert st(conn, "public.t")["is_populated"] is False  # type: ignore[index]
    result = _strict(conn, ["public.t"], digest, "ALLOW")
    assert next(iter(result["node_results"].values()))["action"] == "FULL"
    # Populated and DIFFERENTIAL now: ERROR lets the next refresh through.
    assert _strict(conn, ["public.t"], digest, "ERROR")["node_results"]


def test_refresh_graph_strict_waits_for_a_busy_member(pgtrickle_db: TestDatabase) -> None:
    """refresh_graph_strict takes the members' locks waiting (pg_advisory_xact_lock, FOR
    UPDATE): a member another transaction holds is an error under lock_timeout, never the
    ordinary refresh's NOTICE-and-no-op."""
    with pgtrickle_db.connect() as setup:
        _chain(setup)
        digest = _graph(setup, "public.b")["graph_digest"]
    with (
        pgtrickle_db.connect(autocommit=False) as holder,
        pgtrickle_db.connect(autocommit=False) as conn,
    ):
        _strict(holder, ["public.b"], digest)
        conn.execute("SET lock_timeout = '100ms'")
        with pytest.raises(psycopg.errors.LockNotAvailable):
            _strict(conn, ["public.b"], digest)
        conn.rollback()
        holder.commit()


def test_strict_refresh_needs_ownership(pgtrickle_db: TestDatabase) -> None:
    """authorize_graph_member: a caller who does not own a member is refused (42501)."""
    with pgtrickle_db.connect() as setup:
        _chain(setup)
        digest = _graph(setup, "public.b")["graph_digest"]
    with (
        logins(pgtrickle_db, ("pgtrickle_operator",)) as (login,),
        login.connect(pgtrickle_db) as conn,
    ):
        with pytest.raises(psycopg.Error) as info:
            _strict(conn, ["public.b"], digest)
        assert info.value.sqlstate == "42501"


def test_an_owner_with_the_operator_role_refreshes_its_graph(pgtrickle_db: TestDatabase) -> None:
    """The double's grants (the 0.108.3 ACL has no line for these functions; see
    docs/pg_trickle-contract.md): `graph_contract` to PUBLIC, `refresh_graph_strict` to
    `pgtrickle_operator`; an owner holding it refreshes its own graph, a role without it is
    refused by PostgreSQL (42501) before pg_trickle runs."""
    with (
        logins(pgtrickle_db, ("pgtrickle_admin", "pgtrickle_operator"), ("pgtrickle_reader",)) as (
            owner,
            reader,
        ),
        pgtrickle_db.connect() as admin,
    ):
        admin.execute(f'CREATE SCHEMA g AUTHORIZATION "{owner.name}"')
        admin.execute(f'GRANT USAGE ON SCHEMA g TO "{reader.name}"')
        try:
            with owner.connect(pgtrickle_db) as conn:
                make_source(conn, "g.src")
                create_st(conn, "g.a", "SELECT id, v FROM g.src", orchestration_mode="EXTERNAL")
                digest = _graph(conn, "g.a")["graph_digest"]
                conn.execute("INSERT INTO g.src VALUES (4, 40)")
                result = _strict(conn, ["g.a"], digest)
                assert next(iter(result["node_results"].values()))["result_class"] == "COMPLETED"
            with reader.connect(pgtrickle_db) as conn, pytest.raises(psycopg.Error) as info:
                _strict(conn, ["g.a"], digest)
            assert info.value.sqlstate == "42501"
            assert "refresh_graph_strict" in (info.value.diag.message_primary or "")
            assert sorted(r["v"] for r in rows(admin, "SELECT v FROM g.a")) == [10, 20, 30, 40]
        finally:
            # The storage table's guard function belongs to pg_trickle's owner: drop it with
            # the schema before the login roles go.
            call(admin, "drop_stream_table", "g.a")
            admin.execute("DROP SCHEMA g CASCADE")
