"""A role without grants on pg_trickle gets errors that name what is missing."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from airflow_provider_pgtrickle.exceptions import PgTrickleDatabaseError
from airflow_provider_pgtrickle.hooks.pgtrickle import PgTrickleHook
from airflow_provider_pgtrickle.testing.server import TestDatabase, TestServer

from .conftest import ORDERS_QUERY


@pytest.fixture
def bare_role(
    pgtrickle_server: TestServer, pgtrickle_db: TestDatabase, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """A login role with no grants at all, and `AIRFLOW_CONN_BARE` connecting as it."""
    role = f"pgt_bare_{uuid.uuid4().hex[:8]}"
    with pgtrickle_server.admin_connect() as conn:
        conn.execute(f"CREATE ROLE {role} LOGIN")
    uri = pgtrickle_db.airflow_uri.replace("postgres://postgres@", f"postgres://{role}@", 1)
    monkeypatch.setenv("AIRFLOW_CONN_BARE", uri)
    try:
        yield role
    finally:
        with pgtrickle_db.connect() as conn:
            conn.execute(f"DROP OWNED BY {role}")
        with pgtrickle_server.admin_connect() as conn:
            conn.execute(f"DROP ROLE {role}")


@pytest.mark.requires_double
def test_test_connection_names_every_missing_privilege(
    bare_role: str, pgtrickle_db: TestDatabase, pgtrickle_version: str
) -> None:
    """Each grant removes its complaint. On 0.67.0 USAGE and SELECT suffice (upstream's
    functions are executable by PUBLIC); on 0.108.3 the lifecycle functions are revoked from
    PUBLIC (the ACL block of sql/archive/pg_trickle--0.108.3.sql), so the role also lacks
    EXECUTE until it is a member of `pgtrickle_operator`."""
    hook = PgTrickleHook(postgres_conn_id="bare")
    ok, message = hook.test_connection()
    assert not ok
    assert f"as `{bare_role}`" in message
    assert "USAGE on schema `pgtrickle`" in message
    assert f"GRANT USAGE ON SCHEMA pgtrickle TO {bare_role}" in message

    with pgtrickle_db.connect() as conn:
        conn.execute(f"GRANT USAGE ON SCHEMA pgtrickle TO {bare_role}")
    ok, message = hook.test_connection()
    assert not ok
    assert "USAGE on schema" not in message
    assert "SELECT on `pgtrickle.pgt_stream_tables`" in message

    with pgtrickle_db.connect() as conn:
        conn.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA pgtrickle TO {bare_role}")
    ok, message = hook.test_connection()
    if pgtrickle_version == "0.108.3":
        assert not ok
        assert "SELECT on" not in message
        assert "EXECUTE on `pgtrickle.refresh_stream_table(text)`" in message
        assert "EXECUTE on `pgtrickle.resume_stream_table(text)`" in message
        with pgtrickle_db.connect() as conn:
            conn.execute(f"GRANT pgtrickle_operator TO {bare_role}")
        ok, message = hook.test_connection()
    assert ok, message


@pytest.mark.usefixtures("bare_role", "orders")
def test_calls_without_grants_say_which_privilege_is_missing(
    hook: PgTrickleHook, pgtrickle_db: TestDatabase
) -> None:
    hook.create_stream_table("public.totals", ORDERS_QUERY)
    bare = PgTrickleHook(postgres_conn_id="bare")
    for call in (
        lambda: bare.refresh_stream_table("public.totals"),
        bare.list_stream_tables,
        lambda: bare.create_stream_table("public.other", ORDERS_QUERY),
    ):
        with pytest.raises(PgTrickleDatabaseError) as caught:
            call()
        message = str(caught.value)
        assert "permission denied for schema pgtrickle" in message
        assert message.endswith(
            "grant the connection's role the privilege the server names (see `test_connection()`)."
        )
        assert caught.value.sqlstate == "42501"
