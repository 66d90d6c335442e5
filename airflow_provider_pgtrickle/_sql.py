"""SQL text, argument tables and row mappers used by `PgTrickleHook`.

Argument names and SQL types here are code constants; user values are always bound.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import psycopg
from psycopg import sql

from airflow_provider_pgtrickle.types import (
    RefreshMode,
    StreamTable,
    StreamTableStats,
    StreamTableStatus,
)
from airflow_provider_pgtrickle.vocabulary.config import Surface, arguments

if TYPE_CHECKING:
    from psycopg.errors import Diagnostic

Row = dict[str, Any]

# Functions probed by `extension_info()`; a client branches on these instead of on versions.
FEATURES = (
    "create_stream_table",
    "create_stream_table_if_not_exists",
    "create_or_replace_stream_table",
    "alter_stream_table",
    "drop_stream_table",
    "refresh_stream_table",
    "resume_stream_table",
    "health_check",
    "get_refresh_history",
    "version",
    "version_check",
    "refresh_if_stale",
    "health_summary",
    "stream_table_spec",
)

# Optional create/alter arguments: name -> SQL type, from the vocabulary (pg_trickle argument
# names, code constants, never user input); values are always bound.
CREATE_OPTIONAL = {
    a.name: a.sql_type
    for a in arguments(Surface.CREATE)
    if a.name not in ("schedule", "refresh_mode")
}
ALTER_ARGS = {"query": "text", **{a.name: a.sql_type for a in arguments(Surface.ALTER)}}
# Catalog columns compared before/after a create-or-replace to report what changed.
DEPLOY_FIELDS = (
    "defining_query",
    "original_query",
    "schedule",
    "refresh_mode",
    "diamond_consistency",
    "diamond_schedule_policy",
    "requested_cdc_mode",
    "is_append_only",
    "pooler_compatibility_mode",
    "max_differential_joins",
    "max_delta_fraction",
    "pgt_relid",
    "topk_order_by",
    "topk_limit",
    "topk_offset",
)

ST_COLUMNS = sql.SQL(
    "pgt_id, pgt_relid::bigint AS pgt_relid, pgt_schema, pgt_name, defining_query,"
    " original_query, schedule, refresh_mode, status, is_populated, data_timestamp,"
    " last_refresh_at, consecutive_errors, needs_reinit, diamond_consistency,"
    " diamond_schedule_policy, requested_cdc_mode, is_append_only, pooler_compatibility_mode,"
    " refresh_tier, effective_refresh_mode, last_error_message, last_error_at, created_at,"
    " updated_at, max_differential_joins, max_delta_fraction"
)
# What a deploy compares: the catalog row plus the TopK parts pg_trickle keeps apart from the
# query (`ORDER BY ... LIMIT n [OFFSET m]` is stripped from defining_query).
DEPLOY_SNAPSHOT = sql.SQL(
    "SELECT {}, topk_order_by, topk_limit, topk_offset FROM pgtrickle.pgt_stream_tables"
    " WHERE pgt_schema = %s AND pgt_name = %s"
).format(ST_COLUMNS)
STATS_COLUMNS = sql.SQL(
    "pgt_id, pgt_schema, pgt_name, status, refresh_mode, is_populated, data_timestamp, schedule,"
    " staleness, stale, consecutive_errors, needs_reinit, last_refresh_at, total_refreshes,"
    " successful_refreshes, failed_refreshes, total_rows_inserted, total_rows_deleted,"
    " avg_duration_ms, last_action, last_status, cdc_modes, refresh_tier"
)
SKIP_NOTICE = "refresh skipped:"


# One token of a query, for finding where its last clause ends: quoted text (escape strings
# E'...' where a backslash escapes the next character, plain strings, quoted identifiers,
# dollar quotes), comments, blanks (whitespace, `;`), an unclosed quote or comment, or anything
# else. A word is consumed from its first character, so the `E` of an escape string is only
# ever a token's start. The dbt twin is macros/utils/pgtrickle_strip_query_end.sql; both run
# tests/vocabulary/query_end_cases.py.
_QUERY_TOKEN = re.compile(
    r"""(?P<quoted>[Ee]'(?:[^'\\]|\\.|'')*'|'(?:[^']|'')*'"""
    r"""|"(?:[^"]|"")*"|\$(?P<tag>[A-Za-z_][A-Za-z_0-9]*|)\$.*?\$(?P=tag)\$)"""
    r"|(?P<comment>--[^\n]*|/\*.*?\*/)|(?P<blank>\s+|;)|(?P<open>[Ee]'|['\"]|/\*)"
    r"""|(?P<word>[^'"$;\s/-]+|.)""",
    re.DOTALL,
)


def strip_query_end(query: str) -> str:
    """``query`` without trailing whitespace, semicolons and comments.

    pg_trickle embeds the query in its own SQL on one line (``... FROM (<query>) sub``,
    pg_trickle src/api/helpers.rs): a trailing ``;`` is a syntax error there and a trailing
    ``--`` comment swallows the closing parenthesis. Quoted text is skipped, so ``;`` or ``--``
    inside it stays; when a quote or comment is left open only whitespace and semicolons are
    stripped (the server then reports the real error).
    """
    end, closed = 0, True
    for match in _QUERY_TOKEN.finditer(query):
        if match.lastgroup == "open":
            closed = False
        elif match.lastgroup in ("quoted", "word"):
            end = match.end()
    if closed:
        return query[:end].strip()
    return re.sub(r"[\s;]+$", "", query).strip()


# A TopK query's tail as pg_trickle splits it off: ORDER BY ... LIMIT n [OFFSET m].
_TOPK_TAIL = re.compile(
    r"^(?P<query>.*\S)\s+order\s+by\s+(?P<order_by>.*\S)\s+limit\s+(?P<limit>[0-9]+)"
    r"(?:\s+offset\s+(?P<offset>[0-9]+))?$",
    re.IGNORECASE | re.DOTALL,
)


def normalize_query(query: str | None) -> str:
    """The comparison form pg_trickle uses: whitespace runs collapsed, then trimmed."""
    return " ".join((query or "").split())


def query_matches(query: str, row: Row) -> bool:
    """Whether ``query`` (as sent: see `strip_query_end`) is the one the stream table in
    ``row`` (a `DEPLOY_SNAPSHOT` row) has.

    Compared with the text pg_trickle kept (``original_query``, else ``defining_query``). A
    TopK table whose original text was not kept stores the query without its ORDER BY /
    LIMIT / OFFSET, so ``query`` is split the same way and compared part by part.
    """
    wanted = normalize_query(query)
    if wanted == normalize_query(row["original_query"] or row["defining_query"]):
        return True
    if row["topk_limit"] is None or row["original_query"]:
        return False
    tail = _TOPK_TAIL.match(wanted)
    if tail is None:
        return False
    offset = int(tail["offset"]) if tail["offset"] else None
    return (
        normalize_query(tail["query"]) == normalize_query(row["defining_query"])
        and normalize_query(tail["order_by"]) == normalize_query(row["topk_order_by"])
        and int(tail["limit"]) == row["topk_limit"]
        and offset == row["topk_offset"]
    )


def stream_table_from_row(row: Row) -> StreamTable:
    return StreamTable(
        pgt_id=row["pgt_id"],
        relid=row["pgt_relid"],
        schema=row["pgt_schema"],
        name=row["pgt_name"],
        defining_query=row["defining_query"],
        original_query=row["original_query"],
        schedule=row["schedule"],
        refresh_mode=RefreshMode(row["refresh_mode"]),
        status=StreamTableStatus(row["status"]),
        is_populated=row["is_populated"],
        data_timestamp=row["data_timestamp"],
        last_refresh_at=row["last_refresh_at"],
        consecutive_errors=row["consecutive_errors"],
        needs_reinit=row["needs_reinit"],
        diamond_consistency=row["diamond_consistency"],
        diamond_schedule_policy=row["diamond_schedule_policy"],
        requested_cdc_mode=row["requested_cdc_mode"],
        is_append_only=row["is_append_only"],
        pooler_compatibility_mode=row["pooler_compatibility_mode"],
        refresh_tier=row["refresh_tier"],
        effective_refresh_mode=row["effective_refresh_mode"],
        last_error_message=row["last_error_message"],
        last_error_at=row["last_error_at"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def stats_from_row(row: Row) -> StreamTableStats:
    return StreamTableStats(
        pgt_id=row["pgt_id"],
        schema=row["pgt_schema"],
        name=row["pgt_name"],
        status=StreamTableStatus(row["status"]),
        refresh_mode=RefreshMode(row["refresh_mode"]),
        is_populated=row["is_populated"],
        data_timestamp=row["data_timestamp"],
        schedule=row["schedule"],
        staleness=row["staleness"],
        stale=row["stale"],
        consecutive_errors=row["consecutive_errors"],
        needs_reinit=row["needs_reinit"],
        last_refresh_at=row["last_refresh_at"],
        total_refreshes=row["total_refreshes"] or 0,
        successful_refreshes=row["successful_refreshes"] or 0,
        failed_refreshes=row["failed_refreshes"] or 0,
        total_rows_inserted=row["total_rows_inserted"] or 0,
        total_rows_deleted=row["total_rows_deleted"] or 0,
        avg_duration_ms=row["avg_duration_ms"],
        last_action=row["last_action"],
        last_status=row["last_status"],
        cdc_modes=tuple(row["cdc_modes"]) if row["cdc_modes"] is not None else None,
        refresh_tier=row["refresh_tier"],
    )


def named_call(function: str, args: dict[str, tuple[Any, str]]) -> tuple[sql.Composed, list[Any]]:
    """`SELECT pgtrickle.<function>(arg => %s::type, ...)` for code-constant names and types."""
    parts = [
        sql.SQL("{} => %s::{}").format(sql.Identifier(arg), sql.SQL(sql_type))
        for arg, (_, sql_type) in args.items()
    ]
    query = sql.SQL("SELECT pgtrickle.{}({})").format(
        sql.Identifier(function), sql.SQL(", ").join(parts)
    )
    return query, [value for value, _ in args.values()]


@contextmanager
def collect_notices(conn: psycopg.Connection[Any]) -> Iterator[list[str]]:
    messages: list[str] = []

    def handler(diag: Diagnostic) -> None:
        if diag.message_primary:
            messages.append(diag.message_primary)

    conn.add_notice_handler(handler)
    try:
        yield messages
    finally:
        conn.remove_notice_handler(handler)
