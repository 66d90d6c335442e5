"""Shared pieces of the pg_trickle 0.108.3 conformance modules (`test_v0108_*.py`).

They mirror upstream's sql/archive/pg_trickle--0.108.3.sql (commit 65486072) and run only
against a 0.108.3 server: the double started with `PGTRICKLE_TEST_VERSION=0.108.3`, or a real
pg_trickle 0.108.3 named by `PGTRICKLE_TEST_DSN`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from uuid import uuid4

import psycopg
import pytest
from psycopg import sql

from airflow_provider_pgtrickle.testing.server import TestDatabase
from airflow_provider_pgtrickle.testing.versions import VERSION_ENV, DoubleVersion

from ._helpers import Conn, rows

V0108 = DoubleVersion.V0_108_3.value

# Arguments (name, type, default as pg_get_function_arguments renders it) of the 0.108.3
# lifecycle functions, from the install script's CREATE FUNCTION statements.
CREATE_COMMON_ARGS: list[tuple[str, str, str | None]] = [
    ("name", "text", None),
    ("query", "text", None),
    ("schedule", "text", "'calculated'::text"),
    ("refresh_mode", "text", "'AUTO'::text"),
    ("initialize", "boolean", "true"),
    ("diamond_consistency", "text", "NULL::text"),
    ("diamond_schedule_policy", "text", "NULL::text"),
    ("cdc_mode", "text", "NULL::text"),
    ("append_only", "boolean", "false"),
    ("pooler_compatibility_mode", "boolean", "false"),
    ("partition_by", "text", "NULL::text"),
    ("max_differential_joins", "integer", "NULL::integer"),
    ("max_delta_fraction", "double precision", "NULL::double precision"),
    ("output_distribution_column", "text", "NULL::text"),
    ("temporal", "boolean", "false"),
    ("storage_backend", "text", "NULL::text"),
]
CREATE_ARGS: list[tuple[str, str, str | None]] = [
    *CREATE_COMMON_ARGS,
    ("fillfactor", "integer", "NULL::integer"),
    ("target_freshness", "text", "NULL::text"),
    ("orchestration_mode", "text", "'MANAGED'::text"),
]
# alter_stream_table's arguments after `name` that 0.67.0 and 0.108.3 share, in order; each
# defaults to NULL of its type.
ALTER_COMMON_ARGS: list[tuple[str, str]] = [
    ("query", "text"),
    ("schedule", "text"),
    ("refresh_mode", "text"),
    ("status", "text"),
    ("diamond_consistency", "text"),
    ("diamond_schedule_policy", "text"),
    ("cdc_mode", "text"),
    ("append_only", "boolean"),
    ("pooler_compatibility_mode", "boolean"),
    ("tier", "text"),
    ("fuse", "text"),
    ("fuse_ceiling", "bigint"),
    ("fuse_sensitivity", "integer"),
    ("partition_by", "text"),
    ("max_differential_joins", "integer"),
    ("max_delta_fraction", "double precision"),
    ("post_refresh_action", "text"),
    ("reindex_drift_threshold", "double precision"),
]


def alter_args(*extra: tuple[str, str]) -> list[tuple[str, str, str | None]]:
    """`name`, the shared arguments, then a version's own, each defaulting to NULL."""
    return [
        ("name", "text", None),
        *((arg, typ, f"NULL::{typ}") for arg, typ in [*ALTER_COMMON_ARGS, *extra]),
    ]


ALTER_ARGS = alter_args(("target_freshness", "text"))


def require_0108(version: str) -> None:
    if version != V0108:
        pytest.skip(
            f"mirrors pg_trickle {V0108}; this server runs pg_trickle {version or '?'} "
            f"(run with {VERSION_ENV}={V0108}, or PGTRICKLE_TEST_DSN at a {V0108} server)"
        )


def result_columns(conn: Conn, signature: str) -> list[tuple[str, str]]:
    """(name, type) of the OUT / TABLE columns of one function, in order."""
    found = rows(
        conn,
        "SELECT a.name, format_type(a.typ, NULL) AS typ"
        " FROM pg_proc p, unnest(p.proargnames, p.proargmodes::text[], p.proallargtypes)"
        "   WITH ORDINALITY AS a(name, mode, typ, n)"
        " WHERE p.oid = %s::regprocedure AND a.mode IN ('o', 't', 'b') ORDER BY a.n",
        [signature],
    )
    return [(r["name"], r["typ"]) for r in found]


@dataclass(frozen=True)
class Login:
    """A login role made for one test, with the password to connect as it."""

    name: str
    password: str

    def connect(self, db: TestDatabase) -> Conn:
        return psycopg.connect(db.dsn, user=self.name, password=self.password, autocommit=True)


@contextmanager
def logins(db: TestDatabase, *grants: tuple[str, ...]) -> Iterator[list[Login]]:
    """One login role per entry of ``grants`` (the roles it is made a member of); dropped,
    with everything it owns in the test database, afterwards. Roles are cluster-wide, so the
    names are unique per test."""
    made: list[Login] = []
    suffix = uuid4().hex[:8]
    with db.connect() as admin:
        try:
            for i, member_of in enumerate(grants):
                login = Login(f"pgt_login_{suffix}_{i}", uuid4().hex)
                admin.execute(
                    sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
                        sql.Identifier(login.name), sql.Literal(login.password)
                    )
                )
                made.append(login)
                for role in member_of:
                    admin.execute(
                        sql.SQL("GRANT {} TO {}").format(
                            sql.Identifier(role), sql.Identifier(login.name)
                        )
                    )
            yield made
        finally:
            for login in made:
                _drop_role(admin, login.name)


def _drop_role(admin: Conn, name: str) -> None:
    admin.execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s", [name]
    )
    admin.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(name)))
    admin.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(name)))


@contextmanager
def owner_role(db: TestDatabase) -> Iterator[str]:
    """A NOLOGIN role to own stream tables; dropped with what it owns afterwards."""
    name = f"pgt_owner_{uuid4().hex[:8]}"
    with db.connect() as admin:
        admin.execute(sql.SQL("CREATE ROLE {} NOLOGIN").format(sql.Identifier(name)))
        try:
            yield name
        finally:
            _drop_role(admin, name)


def sqlstate_of(conn: Conn, statement: str, params: list[Any] | None = None) -> str | None:
    """Run ``statement``; the SQLSTATE it failed with, or None when it worked."""
    try:
        conn.execute(statement, params)  # type: ignore[arg-type]
    except psycopg.Error as exc:
        return exc.sqlstate
    return None
