"""Small SQL helpers shared by the conformance modules (plain functions, no fixtures)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from uuid import uuid4

import psycopg
import pytest
from psycopg import sql
from psycopg.rows import dict_row

from . import _observe

Conn = psycopg.Connection[Any]
Row = dict[str, Any]

EM_DASH = "\u2014"
SIMPLE_QUERY = "SELECT id, v FROM src"


def rows(conn: Conn, query: str | sql.Composable, params: Sequence[Any] | None = None) -> list[Row]:
    with _observed("rows", conn, query) as seen, conn.cursor(row_factory=dict_row) as cur:
        cur.execute(query, params)  # type: ignore[arg-type]
        seen.append(cur.fetchall())
    return seen[0]  # type: ignore[no-any-return]


def row(conn: Conn, query: str | sql.Composable, params: Sequence[Any] | None = None) -> Row | None:
    found = rows(conn, query, params)
    return found[0] if found else None


def scalar(conn: Conn, query: str | sql.Composable, params: Sequence[Any] | None = None) -> Any:
    with _observed("scalar", conn, query) as seen, conn.cursor() as cur:
        cur.execute(query, params)  # type: ignore[arg-type]
        first = cur.fetchone()
        seen.append(None if first is None else first[0])
    return seen[0]


def call(conn: Conn, function: str, *args: Any, **kwargs: Any) -> Any:
    """`SELECT pgtrickle.<function>(args..., key => value...)` with every value bound."""
    parts: list[sql.Composable] = [sql.Placeholder() for _ in args]
    parts += [sql.SQL("{} => {}").format(sql.Identifier(k), sql.Placeholder()) for k in kwargs]
    query = sql.SQL("SELECT {}.{}({})").format(
        sql.Identifier("pgtrickle"), sql.Identifier(function), sql.SQL(", ").join(parts)
    )
    with _observed("call", conn, function) as seen, conn.cursor() as cur:
        cur.execute(query, [*args, *kwargs.values()])
        first = cur.fetchone()
        seen.append(None if first is None else first[0])
    return seen[0]


@contextmanager
def _observed(kind: str, conn: Conn, what: str | sql.Composable) -> Iterator[list[Any]]:
    """Hand the block a list for its one result; record it, or the error, for
    `scripts/differential.py` when `PGTRICKLE_OBSERVE` is set (see `_observe`)."""
    seen: list[Any] = []
    if not _observe.enabled():
        yield seen
        return
    label = what if isinstance(what, str) else what.as_string(conn)
    try:
        yield seen
    except psycopg.Error as exc:
        _observe.record_error(label, exc)
        raise
    _observe.record(kind, label, seen[0] if seen else None)


def split_name(name: str) -> tuple[str, str]:
    schema, dot, table = name.partition(".")
    return (schema, table) if dot else ("public", name)


def make_source(
    conn: Conn,
    name: str = "src",
    values: Sequence[tuple[int, int]] = ((1, 10), (2, 20), (3, 30)),
) -> None:
    ident = sql.Identifier(*name.split("."))
    conn.execute(sql.SQL("CREATE TABLE {} (id integer PRIMARY KEY, v integer)").format(ident))
    for value in values:
        conn.execute(sql.SQL("INSERT INTO {} VALUES (%s, %s)").format(ident), value)


def create_st(
    conn: Conn,
    name: str,
    query: str = SIMPLE_QUERY,
    *,
    schedule: str | None = "1h",
    refresh_mode: str = "DIFFERENTIAL",
    **kwargs: Any,
) -> None:
    """Create a stream table; a long schedule keeps a real scheduler from touching it."""
    call(
        conn,
        "create_stream_table",
        name=name,
        query=query,
        schedule=schedule,
        refresh_mode=refresh_mode,
        **kwargs,
    )


def st(conn: Conn, name: str) -> Row | None:
    """The catalog row of `schema.name` (unqualified = public)."""
    schema, table = split_name(name)
    return row(
        conn,
        "SELECT * FROM pgtrickle.pgt_stream_tables WHERE pgt_schema = %s AND pgt_name = %s",
        [schema, table],
    )


def history(conn: Conn, name: str) -> list[Row]:
    schema, table = split_name(name)
    return rows(
        conn,
        "SELECT h.* FROM pgtrickle.pgt_refresh_history h"
        " JOIN pgtrickle.pgt_stream_tables s USING (pgt_id)"
        " WHERE s.pgt_schema = %s AND s.pgt_name = %s ORDER BY h.refresh_id",
        [schema, table],
    )


def deps(conn: Conn, name: str) -> list[Row]:
    schema, table = split_name(name)
    return rows(
        conn,
        "SELECT d.* FROM pgtrickle.pgt_dependencies d"
        " JOIN pgtrickle.pgt_stream_tables s USING (pgt_id)"
        " WHERE s.pgt_schema = %s AND s.pgt_name = %s ORDER BY d.source_relid",
        [schema, table],
    )


def regclass(conn: Conn, name: str) -> int | None:
    return scalar(conn, "SELECT to_regclass(%s)::oid", [name])  # type: ignore[no-any-return]


def user_columns(conn: Conn, name: str) -> list[str]:
    schema, table = split_name(name)
    return [
        r["column_name"]
        for r in rows(
            conn,
            "SELECT column_name FROM information_schema.columns"
            " WHERE table_schema = %s AND table_name = %s ORDER BY ordinal_position",
            [schema, table],
        )
    ]


def content(conn: Conn, name: str) -> list[tuple[Any, ...]]:
    """Rows of a stream table without the internal `__pgt_*` columns, sorted."""
    cols = [c for c in user_columns(conn, name) if not c.startswith("__pgt_")]
    query = sql.SQL("SELECT {} FROM {}").format(
        sql.SQL(", ").join(sql.Identifier(c) for c in cols),
        sql.Identifier(*split_name(name)),
    )
    with conn.cursor() as cur:
        cur.execute(query)
        return sorted(cur.fetchall(), key=repr)


def query_result(conn: Conn, query: str) -> list[tuple[Any, ...]]:
    with conn.cursor() as cur:
        cur.execute(query)  # type: ignore[call-overload]
        return sorted(cur.fetchall(), key=repr)


def snapshot(conn: Conn, *tables: str, contents: bool = True) -> dict[str, Any]:
    """Everything "no side effects" covers: catalog, dependency and history rows, the
    relations outside the system schemas, and the content of the given stream tables.

    `contents=False` skips reading the tables, for use while another session holds an
    ACCESS EXCLUSIVE lock on them (DDL in an open transaction), where a read would block.
    """
    snap: dict[str, Any] = {
        "catalog": rows(conn, "SELECT * FROM pgtrickle.pgt_stream_tables ORDER BY pgt_id"),
        "deps": rows(
            conn,
            "SELECT pgt_id, source_relid::bigint AS source_relid, source_type, cdc_mode"
            " FROM pgtrickle.pgt_dependencies ORDER BY pgt_id, source_relid",
        ),
        "history": rows(conn, "SELECT * FROM pgtrickle.pgt_refresh_history ORDER BY refresh_id"),
        "relations": rows(
            conn,
            "SELECT n.nspname, c.relname, c.oid::bigint AS oid, c.relkind FROM pg_class c"
            " JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')"
            " ORDER BY 1, 2",
        ),
    }
    for table in tables if contents else ():
        snap[f"content:{table}"] = content(conn, table) if regclass(conn, table) else None
    return snap


def assert_pg_error(
    exc: BaseException,
    sqlstate: str | None,
    message: str | None = None,
    *,
    prefix: str | None = None,
) -> None:
    """Check SQLSTATE and the primary message (exactly, or by prefix)."""
    assert isinstance(exc, psycopg.Error), exc
    primary = exc.diag.message_primary
    if sqlstate is not None:
        assert exc.sqlstate == sqlstate, (exc.sqlstate, primary)
    if message is not None:
        assert primary == message
    if prefix is not None:
        assert primary is not None
        assert primary.startswith(prefix), primary


@dataclass(frozen=True)
class Notice:
    severity: str
    message: str


@contextmanager
def notices(conn: Conn) -> Iterator[list[Notice]]:
    """Collect the NOTICE/INFO/WARNING messages the server sends while the block runs."""
    seen: list[Notice] = []

    def handler(diag: psycopg.errors.Diagnostic) -> None:
        # The diagnostic is only valid during the callback: copy what we need.
        seen.append(Notice(diag.severity_nonlocalized or "", diag.message_primary or ""))

    conn.add_notice_handler(handler)
    try:
        yield seen
    finally:
        conn.remove_notice_handler(handler)


def messages(seen: list[Notice], severity: str | None = None) -> list[str]:
    return [n.message for n in seen if severity is None or n.severity == severity]


def wal_is_logical(conn: Conn) -> bool:
    return scalar(conn, "SELECT current_setting('wal_level') = 'logical'") is True


def allowed_cdc_modes(conn: Conn) -> set[str]:
    """A running scheduler may move an `auto` source to WAL, but only with logical WAL."""
    return {"TRIGGER", "TRANSITIONING", "WAL"} if wal_is_logical(conn) else {"TRIGGER"}


def set_catalog(conn: Conn, name: str, values: Mapping[str, Any]) -> None:
    """Write catalog columns directly: the only way to reach scheduler-only states
    (error counters, error messages) without a scheduler."""
    schema, table = split_name(name)
    assignments = sql.SQL(", ").join(
        sql.SQL("{} = {}").format(sql.Identifier(k), sql.Placeholder()) for k in values
    )
    conn.execute(
        sql.SQL(
            "UPDATE pgtrickle.pgt_stream_tables SET {} WHERE pgt_schema = %s AND pgt_name = %s"
        ).format(assignments),
        [*values.values(), schema, table],
    )


def assert_invalid_argument(exc: BaseException, text: str, *, prefix: bool = False) -> None:
    """For messages an older API summary quoted without saying whether the `invalid argument: `
    prefix (SQLSTATE 22023) is attached: accept both spellings, the SQLSTATE follows the prefix."""
    assert isinstance(exc, psycopg.Error), exc
    primary = exc.diag.message_primary or ""
    if primary.startswith("invalid argument: "):
        assert exc.sqlstate == "22023", (exc.sqlstate, primary)
        primary = primary[len("invalid argument: ") :]
    if prefix:
        assert primary.startswith(text), primary
    else:
        assert primary == text


@contextmanager
def other_role(conn: Conn) -> Iterator[str]:
    """A role that does not own anything but may read the pgtrickle schema.

    Roles are cluster-wide: the name is unique and the role is dropped afterwards. Skips the
    test when the connecting role may not create roles (e.g. on a managed real server).
    """
    role = f"pgt_other_{uuid4().hex[:8]}"
    ident = sql.Identifier(role)
    try:
        conn.execute(sql.SQL("CREATE ROLE {} NOLOGIN").format(ident))
    except psycopg.errors.InsufficientPrivilege:
        pytest.skip("the test role may not CREATE ROLE")
    try:
        conn.execute(sql.SQL("GRANT USAGE ON SCHEMA pgtrickle TO {}").format(ident))
        conn.execute(sql.SQL("GRANT SELECT ON ALL TABLES IN SCHEMA pgtrickle TO {}").format(ident))
        yield role
    finally:
        conn.execute(sql.SQL("DROP OWNED BY {}").format(ident))
        conn.execute(sql.SQL("DROP ROLE {}").format(ident))


def as_role(conn: Conn, role: str, function: str, *args: Any, **kwargs: Any) -> None:
    """Call a pgtrickle function as `role` in its own transaction (rolled back on error)."""
    with conn.transaction():
        conn.execute(sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(role)))
        call(conn, function, *args, **kwargs)
