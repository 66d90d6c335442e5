"""`PGTRICKLE_TEST_ROLE=least`: databases owned by, and connections as, a non-superuser."""

from __future__ import annotations

import psycopg
import pytest

from airflow_provider_pgtrickle.testing.server import TestServer
from airflow_provider_pgtrickle.vocabulary import grants


def test_the_least_role_owns_its_database_and_holds_exactly_the_listed_grants(
    pgtrickle_server: TestServer,
) -> None:
    server = pgtrickle_server.with_least_role()
    role = server.least_role
    assert role is not None
    db = server.create_database()
    try:
        with db.connect() as conn:
            me, superuser, owner = conn.execute(
                "SELECT current_user, rolsuper, pg_get_userbyid(datdba)"
                " FROM pg_roles, pg_database WHERE rolname = current_user"
                " AND datname = current_database()"
            ).fetchone()
            assert (me, superuser, owner) == (role, False, role)
            # What the vocabulary lists is held ...
            version = grants.model_version(
                conn.execute(
                    "SELECT extversion FROM pg_extension WHERE extname = 'pg_trickle'"
                ).fetchone()[0]
            )
            for grant in grants.grants(version, tuple(grants.Part)):
                for label, check in grant.checks():
                    assert conn.execute(f"SELECT {check}").fetchone()[0] is not False, label
            # ... and nothing more: the catalog table nobody needs stays out of reach.
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute("SELECT * FROM pgtrickle.pgt_schema_version")
        with db.admin_connect() as conn:
            assert conn.execute(
                "SELECT current_user, rolsuper FROM pg_roles WHERE rolname = current_user"
            ).fetchone() == (
                pgtrickle_server.user,
                True,
            )
    finally:
        server.drop_database(db.dbname)
        server.drop_least_role()
    with pgtrickle_server.admin_connect() as conn:
        assert conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role]).fetchone() is None
