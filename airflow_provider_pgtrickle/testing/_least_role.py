"""`PGTRICKLE_TEST_ROLE=least`: run tests as a non-superuser, as deployments do.

One LOGIN role per server (cluster-wide, unique name) owns every database the server hands
out and the tables tests create in it; the extension is still created by the superuser, and
each database gets exactly the grants `airflow_provider_pgtrickle.vocabulary.grants` lists
for the installed pg_trickle version (all parts: the role reads, refreshes and creates). The
role is dropped when the session ends; roles outlive databases, so that comes last.
"""

from __future__ import annotations

import dataclasses
import logging
import secrets
import uuid
from typing import TYPE_CHECKING

from psycopg import sql

from airflow_provider_pgtrickle.vocabulary import grants

if TYPE_CHECKING:  # the server imports this module when asked for the least role
    from airflow_provider_pgtrickle.testing.server import TestDatabase, TestServer

log = logging.getLogger(__name__)

ROLE_ENV = "PGTRICKLE_TEST_ROLE"
"""``least``: databases owned by, and connections as, a non-superuser; unset or
``superuser``: the superuser (the default)."""
ROLE_CHOICES = ("superuser", "least")


def create(server: TestServer) -> TestServer:
    role = f"pgt_least_{uuid.uuid4().hex[:10]}"
    # A password too, so the role also logs in on a server that does not trust local users.
    password = secrets.token_urlsafe(18)
    with server.admin_connect() as conn:
        conn.execute(
            sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
                sql.Identifier(role), sql.Literal(password)
            )
        )
    return dataclasses.replace(server, least_role=role, least_password=password)


def drop(server: TestServer) -> None:
    if server.least_role is None:
        return
    with server.admin_connect() as conn:
        try:
            conn.execute(
                sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(server.least_role))
            )
        except Exception as error:  # cleanup must not hide the test outcome
            log.warning(
                "Test server: could not drop the least-privilege role %s (%s); a database it "
                "owns was left behind. Drop both by hand.",
                server.least_role,
                error,
            )


def hand_over(server: TestServer, db: TestDatabase) -> TestDatabase:
    """Apply the least grants in `db` and return it as seen by the least role."""
    assert server.least_role is not None
    with db.connect() as conn:
        row = conn.execute(
            "SELECT extversion FROM pg_catalog.pg_extension WHERE extname = 'pg_trickle'"
        ).fetchone()
        version = grants.model_version(row[0] if row else grants.VERSIONS[0])
        for statement in grants.statements(version, tuple(grants.Part), server.least_role):
            conn.execute(statement.encode())
        if db.is_double:
            # The double's own bookkeeping of pending change counts (pg_trickle has no such
            # table): its functions run as the caller, as pg_trickle's do.
            conn.execute(
                sql.SQL("GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE {} TO {}").format(
                    sql.Identifier("pgtrickle_changes", "pgt_pending"),
                    sql.Identifier(server.least_role),
                )
            )
    return dataclasses.replace(
        db,
        user=server.least_role,
        password=server.least_password,
        admin_user=db.user,
        admin_password=db.password,
    )
