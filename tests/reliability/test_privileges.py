"""Least privilege: each grant of `vocabulary.grants` is needed, and a missing one is named.

A role with no grants on pg_trickle (not a superuser, not the owner of anything in pg_trickle)
gets the grants of the installed version from the vocabulary, minus one; `test_connection()`
then names exactly that grant's statement, and the product call that needs it fails with a
project error naming a GRANT. With the grant, the call works.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from psycopg import sql

from airflow_provider_pgtrickle import _caught_up
from airflow_provider_pgtrickle.exceptions import PgTrickleDatabaseError
from airflow_provider_pgtrickle.hooks.pgtrickle import PgTrickleHook
from airflow_provider_pgtrickle.testing.server import TestDatabase, TestServer
from airflow_provider_pgtrickle.vocabulary import grants

from .conftest import ORDERS_QUERY

ST = "public.totals"


@pytest.fixture
def bare_role(
    pgtrickle_server: TestServer, pgtrickle_db: TestDatabase, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """A login role with no grants at all, and `AIRFLOW_CONN_BARE` connecting as it."""
    role = f"pgt_bare_{uuid.uuid4().hex[:8]}"
    with pgtrickle_db.admin_connect() as conn:
        conn.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(role)))
    user = pgtrickle_db.airflow_uri.split("://", 1)[1].split("@", 1)[0]
    uri = pgtrickle_db.airflow_uri.replace(f"://{user}@", f"://{role}@", 1)
    monkeypatch.setenv("AIRFLOW_CONN_BARE", uri)
    try:
        yield role
    finally:
        with pgtrickle_db.admin_connect() as conn:
            conn.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(role)))
        with pgtrickle_db.admin_connect() as conn:
            conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))


def _version(db: TestDatabase) -> str:
    with db.connect() as conn:
        row = conn.execute(
            "SELECT extversion FROM pg_extension WHERE extname = 'pg_trickle'"
        ).fetchone()
    assert row is not None
    return grants.model_version(row[0])


def _grant(db: TestDatabase, statements: list[str]) -> None:
    with db.admin_connect() as conn:
        for statement in statements:
            conn.execute(statement.encode())


@pytest.mark.usefixtures("orders")
def test_test_connection_names_every_missing_grant_part_by_part(
    hook: PgTrickleHook, bare_role: str, pgtrickle_db: TestDatabase
) -> None:
    hook.create_stream_table(ST, ORDERS_QUERY)  # so that a change buffer exists
    version = _version(pgtrickle_db)
    hook = PgTrickleHook(postgres_conn_id="bare")
    ok, message = hook.test_connection()
    assert not ok
    assert f"as `{bare_role}`" in message
    # 0.67.0 needs the schema granted; 0.108.3 gives it (and nothing else) with its role.
    expected = "USAGE on schema pgtrickle" if version == "0.67.0" else "membership in role"
    assert expected in message
    for grant in grants.grants(version, [grants.Part.READER]):
        # PUBLIC holds EXECUTE on pg_trickle 0.67.0's functions, so those are not missing.
        held_by_public = grant.target is grants.Target.FUNCTION and version == "0.67.0"
        assert (grant.statement(bare_role) in message) != held_by_public, grant

    _grant(pgtrickle_db, grants.statements(version, [grants.Part.READER], bare_role))
    ok, message = hook.test_connection()
    assert ok, message
    assert "can read its catalog, but it cannot refresh" in message
    held = {
        (g.target, g.name, p)
        for g in grants.grants(version, [grants.Part.READER])
        for p in g.privileges
    }
    for grant in grants.grants(version, [grants.Part.OPERATOR, grants.Part.CREATOR]):
        if grant.target is grants.Target.STREAM_TABLE:
            continue  # the owner grants these per table; nothing to check up front
        if grant.target is grants.Target.FUNCTION and version == "0.67.0":
            assert grant.statement(bare_role) not in message  # PUBLIC holds EXECUTE
            continue
        lacking = grant.target is grants.Target.ROLE or any(
            (grant.target, grant.name, p) not in held for p in grant.privileges
        )
        assert (grant.statement(bare_role) in message) == lacking, grant

    _grant(pgtrickle_db, grants.statements(version, tuple(grants.Part), bare_role))
    ok, message = hook.test_connection()
    assert ok, message
    assert "has every grant the provider uses" in message


def _reader_grants() -> list[grants.Grant]:
    return list(grants.grants("0.67.0", [grants.Part.READER]))


@pytest.mark.parametrize(
    "left_out", _reader_grants(), ids=[f"{g.target.name}-{g.name}" for g in _reader_grants()]
)
@pytest.mark.usefixtures("orders")
def test_each_reader_grant_is_checked(
    left_out: grants.Grant, hook: PgTrickleHook, bare_role: str, pgtrickle_db: TestDatabase
) -> None:
    if _version(pgtrickle_db) != "0.67.0":
        pytest.skip("the measured grants are those of pg_trickle 0.67.0")
    hook.create_stream_table(ST, ORDERS_QUERY)  # so that a change buffer exists
    if left_out.target is grants.Target.FUNCTION:
        # PUBLIC may execute pg_trickle 0.67.0's functions unless an administrator revoked it.
        with pgtrickle_db.admin_connect() as conn:
            conn.execute(f"REVOKE EXECUTE ON FUNCTION {left_out.name} FROM PUBLIC")
    others = [g for g in _reader_grants() if g != left_out]
    _grant(pgtrickle_db, [g.statement(bare_role) for g in others])
    ok, message = PgTrickleHook(postgres_conn_id="bare").test_connection()
    assert not ok
    assert left_out.statement(bare_role) in message
    for grant in others:
        assert grant.statement(bare_role) not in message
    _grant(pgtrickle_db, [left_out.statement(bare_role)])
    ok, message = PgTrickleHook(postgres_conn_id="bare").test_connection()
    assert ok, message


def _caught_up_count(hook: PgTrickleHook) -> Any:
    """What wait_for_sources reads: the change buffers, then their change counts. A buffer the
    role may not read fails no query: `problems` reports it with the GRANT that fixes it,
    raised here as the permission error it stands for."""
    with hook.new_connection() as conn:
        query, params = _caught_up.buffers_query([ST])
        found = _caught_up.buffers(conn.execute(query, params).fetchall())
        assert found, "the stream table's change buffer is visible"
        blocked = _caught_up.problems(found)
        if blocked:
            raise PermissionError(f"permission denied: {blocked[ST]}")
        lsn, at = conn.execute(_caught_up.START_POSITION).fetchone()
        counted = _caught_up.count_query(found, [(ST, _caught_up.start_token(lsn, at))])
        assert counted is not None
        return conn.execute(*counted).fetchall()


# A product read that needs the grant, per object of the reader list (pg_trickle 0.67.0).
_READS: dict[str, Callable[[PgTrickleHook], Any]] = {
    "pgtrickle": lambda hook: hook.fetch_health([ST]),
    "pgtrickle.pgt_stream_tables": lambda hook: hook.fetch_health([ST]),
    "pgtrickle.pgt_refresh_history": lambda hook: hook.fetch_health([ST]),
    "pgtrickle.pgt_dependencies": lambda hook: hook.dependency_graph(),
    "pgtrickle.pg_stat_stream_tables": lambda hook: hook.get_stats(),
    "pgtrickle_changes": _caught_up_count,
}


@pytest.mark.parametrize("obj", sorted(_READS))
@pytest.mark.usefixtures("orders")
def test_a_read_without_its_grant_names_the_grant_and_works_with_it(
    obj: str, hook: PgTrickleHook, bare_role: str, pgtrickle_db: TestDatabase
) -> None:
    if _version(pgtrickle_db) != "0.67.0":
        pytest.skip("the measured grants are those of pg_trickle 0.67.0")
    hook.create_stream_table(ST, ORDERS_QUERY)
    reader = [g for g in _reader_grants() if g.name != obj]
    _grant(pgtrickle_db, [g.statement(bare_role) for g in reader])
    bare = PgTrickleHook(postgres_conn_id="bare")
    read = _READS[obj]
    with pytest.raises(Exception, match="permission denied") as caught:
        read(bare)
    if isinstance(caught.value, PgTrickleDatabaseError):
        assert caught.value.sqlstate == "42501"
        # The project error names the GRANT that fixes it.
        assert "GRANT " in str(caught.value)
        assert obj.rpartition(".")[2] in str(caught.value)
    if isinstance(caught.value, PermissionError):
        assert f"GRANT USAGE ON SCHEMA {obj} TO {bare_role}" in str(caught.value)
    _grant(pgtrickle_db, [g.statement(bare_role) for g in _reader_grants() if g.name == obj])
    read(PgTrickleHook(postgres_conn_id="bare"))


@pytest.mark.usefixtures("bare_role", "orders")
def test_calls_without_grants_say_which_grant_is_missing(
    hook: PgTrickleHook, pgtrickle_db: TestDatabase
) -> None:
    hook.create_stream_table(ST, ORDERS_QUERY)
    bare = PgTrickleHook(postgres_conn_id="bare")
    # The advice is the grant the call's part needs (a creator also needs CREATE there for
    # IMMEDIATE tables, see docs/roles-and-grants.md).
    for call, grant in (
        (lambda: bare.refresh_stream_table(ST), "GRANT USAGE ON SCHEMA pgtrickle TO <role>;"),
        (bare.list_stream_tables, "GRANT USAGE ON SCHEMA pgtrickle TO <role>;"),
        (
            lambda: bare.create_stream_table("public.other", ORDERS_QUERY),
            "GRANT USAGE, CREATE ON SCHEMA pgtrickle TO <role>;",
        ),
    ):
        with pytest.raises(PgTrickleDatabaseError) as caught:
            call()
        message = str(caught.value)
        assert "permission denied for schema pgtrickle" in message
        assert f"`{grant}`" in message
        assert caught.value.sqlstate == "42501"
