""" "Caught up" gating: has a stream table consumed every source change committed before a point?

pg_trickle's trigger-based change capture writes each change of a source table into its change
buffer ``<change_buffer_schema>.changes_<name>`` (default schema ``pgtrickle_changes``; the name
is ``pgt_change_tracking.source_stable_name``, or the source's OID for older rows) with the WAL
insert position (``lsn``) of the writing transaction (pg_trickle src/cdc/mod.rs). A refresh
records, per source, the position it has read up to in the stream table's ``frontier``
(``{"sources": {"<oid>": {"lsn": ...}}}``, src/version.rs). So a stream table reflects every
change committed before the start when no buffer row of any of its table sources lies above its
frontier and at or below the start position.

TopK tables (``topk_limit`` set) are judged differently: their refresh re-runs the whole
``ORDER BY ... LIMIT`` query as one MERGE and stores no frontier (pg_trickle
src/refresh/merge/insert.rs, execute_topk_refresh; neither src/api/refresh_ops.rs,
execute_manual_refresh, nor src/scheduler/mod.rs, execute_scheduled_refresh, stores one on that
path), and buffer clean-up deletes only rows at or below the lowest frontier
(src/refresh/codegen.rs, cleanup_change_buffers_by_frontier), so their buffer rows never go
away. A TopK table is caught up once a refresh that started after the wait began has completed
(its ``pgt_refresh_history`` row: every path writes one; ``start_time`` is the refresh
transaction's start, and a change committed before the wait began is visible to it).

`START_POSITION` reads the point a sensor takes when it starts: the WAL insert position and the
server's clock, kept together in one token (`start_token`). For any number of (table, token)
pairs, `buffers_query()` reads where each table source's buffer is and how far the table has read
it, `problems()` names the tables the gate cannot judge (below), and `count_query()` counts the
unconsumed changes up to each point in one more statement (buffer names come from the catalog and
are quoted as identifiers). `gate()` turns healthy verdicts of tables with such changes into
waiting ones.

What the gate refuses instead of guessing (`problems()`; see docs/health.md):

- a role without ``USAGE`` on the change-buffer schema (pg_trickle's install script revokes it
  from PUBLIC) or without ``SELECT`` on a buffer: the message names the ``GRANT`` to run;
- a source captured from the WAL (``pgt_dependencies.cdc_mode`` ``WAL`` or ``TRANSITIONING``:
  the default ``cdc_mode => 'auto'`` switches to it when ``wal_level = logical``; src/cdc,
  src/wal_decoder.rs): its changes reach the buffer only when the decoder polls the slot, so an
  empty buffer proves nothing.

Limits: only a stream table's direct table sources are checked (list upstream stream tables too
when one stream table reads another).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg import sql

from airflow_provider_pgtrickle.capabilities import Capabilities, ReadPath
from airflow_provider_pgtrickle.types import HealthReport, HealthState, TableHealth

# The WAL insert position and the server's clock, read in one statement (`start_token`).
START_POSITION = "SELECT pg_current_wal_insert_lsn()::text, clock_timestamp()"

# Capture modes whose changes reach the buffer asynchronously (pgt_dependencies.cdc_mode,
# install script CHECK: TRIGGER, TRANSITIONING, WAL, DUCKLAKE_CHANGE_FEED).
WAL_CAPTURE = ("WAL", "TRANSITIONING")

_BUFFERS = sql.SQL(
    "SELECT st.pgt_schema || '.' || st.pgt_name AS name, b.nsp, b.buf, b.seen::text,"
    " d.cdc_mode, d.source_relid::regclass::text AS source,"
    " st.topk_limit IS NOT NULL AS topk,"
    # The newest completed refresh, for TopK tables only (idx_hist_pgt_start).
    " CASE WHEN st.topk_limit IS NOT NULL THEN (SELECT h.start_time"
    " FROM pgtrickle.pgt_refresh_history AS h WHERE h.pgt_id = st.pgt_id"
    " AND h.status = 'COMPLETED' ORDER BY h.start_time DESC LIMIT 1) END AS refreshed_at,"
    # Privileges are tested on OIDs: a name lookup (to_regclass) in a schema the role may not
    # use raises "permission denied for schema" instead of answering.
    " has_schema_privilege(c.relnamespace, 'USAGE') AS usable,"
    " has_table_privilege(c.oid, 'SELECT') AS readable, current_user::text AS role"
    " FROM pgtrickle.pgt_stream_tables AS st"
    " JOIN pgtrickle.pgt_dependencies AS d ON d.pgt_id = st.pgt_id AND d.source_type = 'TABLE'"
    " LEFT JOIN pgtrickle.pgt_change_tracking AS ct ON ct.source_relid = d.source_relid"
    # source_stable_name exists since pg_trickle 0.32; to_jsonb reads it without failing on
    # catalogs that lack the column.
    " CROSS JOIN LATERAL (SELECT coalesce(nullif(current_setting("
    "'pg_trickle.change_buffer_schema', true), ''), 'pgtrickle_changes') AS nsp,"
    " 'changes_' || coalesce(to_jsonb(ct) ->> 'source_stable_name', d.source_relid::text) AS buf,"
    " coalesce((st.frontier -> 'sources' -> d.source_relid::text ->> 'lsn')::pg_lsn, '0/0')"
    " AS seen) AS b"
    " JOIN pg_catalog.pg_namespace AS n ON n.nspname = b.nsp"
    " JOIN pg_catalog.pg_class AS c ON c.relnamespace = n.oid AND c.relname = b.buf"
    " WHERE st.pgt_schema || '.' || st.pgt_name = ANY(%s::text[])"
)


@dataclass(frozen=True)
class Buffer:
    """One table source of a stream table, as `buffers_query` reads it."""

    table: str
    schema: str
    name: str
    seen: str
    cdc_mode: str
    source: str
    topk: bool
    refreshed_at: datetime | None
    usable: bool
    readable: bool
    role: str


def start_token(lsn: str, at: datetime) -> str:
    """The start of a wait as one text: ``<lsn>@<ISO 8601 time>`` (`split_token` reads it)."""
    return f"{lsn}@{at.isoformat()}"


def split_token(token: str) -> tuple[str, datetime | None]:
    """(WAL position, server time) of a start token; a bare position (older) has no time."""
    lsn, _, at = token.partition("@")
    return lsn, datetime.fromisoformat(at) if at else None


def buffers_query(names: Iterable[str]) -> tuple[sql.SQL, list[Any]]:
    """One row per table source of the named stream tables (read them with `buffers`)."""
    return _BUFFERS, [sorted(set(names))]


def buffers(rows: Iterable[tuple[Any, ...]]) -> list[Buffer]:
    """The rows of `buffers_query`."""
    out = []
    for r in rows:
        table, schema, name, seen, cdc_mode, source = (str(v) for v in r[:6])
        topk, refreshed_at, usable, readable, role = bool(r[6]), r[7], r[8], r[9], str(r[10])
        out.append(
            Buffer(
                table,
                schema,
                name,
                seen,
                cdc_mode,
                source,
                topk,
                refreshed_at,
                bool(usable),
                bool(readable),
                role,
            )
        )
    return out


def _ident(name: str) -> str:
    """A role or schema name as it must be written in a GRANT (quoted when it needs quotes)."""
    if re.fullmatch(r"[a-z_][a-z0-9_$]*", name):
        return name
    return '"' + name.replace('"', '""') + '"'


def problems(found: Iterable[Buffer]) -> dict[str, str]:
    """Stream table -> why the gate cannot judge it (the message names the fix)."""
    out: dict[str, str] = {}
    for b in found:
        if b.table in out:
            continue
        if not b.usable:
            out[b.table] = (
                f"Stream table `{b.table}`: wait_for_sources reads pg_trickle's change buffers "
                f"in schema `{b.schema}`, and role `{b.role}` has no USAGE on it (pg_trickle's "
                "install script revokes it from PUBLIC); run "
                f"`GRANT USAGE ON SCHEMA {_ident(b.schema)} TO {_ident(b.role)}` (and "
                f"`GRANT SELECT ON ALL TABLES IN SCHEMA {_ident(b.schema)} TO {_ident(b.role)}`)."
            )
        elif not b.readable:
            out[b.table] = (
                f"Stream table `{b.table}`: wait_for_sources reads the change buffer "
                f"`{b.schema}.{b.name}` of source `{b.source}`, and role `{b.role}` may not "
                "SELECT from it; run "
                f"`GRANT SELECT ON ALL TABLES IN SCHEMA {_ident(b.schema)} TO {_ident(b.role)}` "
                "(again after new sources are added)."
            )
        elif b.cdc_mode in WAL_CAPTURE:
            out[b.table] = (
                f"Stream table `{b.table}`: wait_for_sources cannot tell whether changes to "
                f"source `{b.source}` committed before the wait began are refreshed: pg_trickle "
                f"captures that source from the WAL (cdc_mode {b.cdc_mode}), so a change reaches "
                "its change buffer only when the WAL decoder polls it. Set "
                "`cdc_mode => 'trigger'` on the stream tables reading it, or wait without "
                "wait_for_sources."
            )
    return out


def count_query(
    found: Iterable[Buffer], pairs: Iterable[tuple[str, str]]
) -> tuple[sql.Composed, list[Any]] | None:
    """One statement: rows ``(table, token, changes)``, one per pair and table source.

    ``None`` when no pair's table has a change buffer left to read (nothing to wait for).
    Tables with `problems` are left out; a TopK table that completed a refresh started after
    the token's time has nothing pending.
    """
    found = list(found)
    blocked = problems(found)
    by_table: dict[str, list[Buffer]] = {}
    for b in found:
        if b.table not in blocked:
            by_table.setdefault(b.table, []).append(b)
    parts: list[sql.Composable] = []
    params: list[Any] = []
    for name, token in sorted(set(pairs)):
        lsn, at = split_token(token)
        for b in by_table.get(name, []):
            if b.topk and at is not None and b.refreshed_at is not None and b.refreshed_at >= at:
                continue
            parts.append(
                sql.SQL(
                    "SELECT %s::text, %s::text, (SELECT count(*) FROM {}"
                    " WHERE lsn > %s::pg_lsn AND lsn <= %s::pg_lsn)"
                ).format(sql.Identifier(b.schema, b.name))
            )
            params += [name, token, b.seen, lsn]
    if not parts:
        return None
    return sql.SQL(" UNION ALL ").join(parts), params


def totals(rows: Iterable[tuple[Any, ...]]) -> dict[tuple[str, str], int]:
    """Sum `count_query` rows per (table, token)."""
    out: dict[tuple[str, str], int] = {}
    for name, since, changes in rows:
        key = (str(name), str(since))
        out[key] = out.get(key, 0) + int(changes)
    return out


# pg_trickle 0.96.0 and later (`ReadPath.FUNCTIONS`): a role holding only the predefined
# reader role reads neither the frontier (pgt_stream_tables) nor the change buffers (schema
# pgtrickle_changes, revoked from PUBLIC and granted to no role; `change_buffer_sizes()`
# reports `n_live_tup`, a statistics estimate, src/monitor/mod.rs). What it may read is the
# refresh history (`get_refresh_history`) and each table's sources with their capture mode
# (`list_sources`). A refresh whose transaction started after the wait began sees every
# change committed before it and consumes the buffer up to its own snapshot, so a table is
# caught up once it has COMPLETED a refresh started at or after the token's server time
# (the rule the catalog path applies to TopK tables). It is stricter than the buffer count:
# a table whose sources did not change still waits for its next refresh (the scheduler
# records a NO_DATA refresh then). IMMEDIATE tables are maintained in the writing
# transaction and never wait. Changes captured from the WAL are refused as on the catalog
# path.
#
# Which rule applies is decided by the server's read path (`counts_buffers`): the exact count
# on 0.67.0, the refresh rule wherever the read functions are (a reader on 0.108.3 holds
# SELECT on the catalog because the functions read it as the caller, but reads only them).
UNREFRESHED = -1
"""`pending` value: no completed refresh since the wait began (count unknown)."""

_REFRESHED = sql.SQL(
    "SELECT n.name, s.refresh_mode,"
    " ARRAY(SELECT DISTINCT l.cdc_mode || ' ' || l.source_table"
    " FROM pgtrickle.list_sources(name => n.name) AS l"
    " WHERE l.source_type = 'TABLE' AND l.cdc_mode IN ('WAL', 'TRANSITIONING')) AS wal,"
    " (SELECT max(h.start_time) FROM pgtrickle.get_refresh_history(name => n.name,"
    " max_rows => 20) AS h WHERE h.status = 'COMPLETED') AS refreshed_at"
    " FROM unnest(%s::text[]) AS n(name)"
    " LEFT JOIN pgtrickle.st_refresh_stats() AS s ON s.pgt_schema || '.' || s.pgt_name = n.name"
)


@dataclass(frozen=True)
class Refreshed:
    """One stream table as `refreshed_query` reads it."""

    table: str
    refresh_mode: str | None
    wal_sources: tuple[str, ...]  # "<cdc_mode> <source>"
    refreshed_at: datetime | None


def counts_buffers(caps: Capabilities) -> bool:
    """Whether the exact gate (frontier and buffer counts) applies: the server's read path is
    the catalog (0.67.0). Where pg_trickle has the read functions (`ReadPath.FUNCTIONS`) the
    refresh rule (`refreshed_query`) does, whoever asks: the reader reads through the
    functions only, even when it was granted the catalog (which 0.108.3's functions need)."""
    return caps.read_path is ReadPath.CATALOG


def refreshed_query(names: Iterable[str]) -> tuple[sql.SQL, list[Any]]:
    """One row per named stream table: its mode, WAL-captured sources and newest completed
    refresh (read them with `refreshed`). One statement; the read functions only."""
    return _REFRESHED, [sorted(set(names))]


def refreshed(rows: Iterable[tuple[Any, ...]]) -> list[Refreshed]:
    return [Refreshed(str(r[0]), r[1], tuple(r[2] or ()), r[3]) for r in rows]


def refreshed_problems(found: Iterable[Refreshed]) -> dict[str, str]:
    """`problems` for the read-function path: tables with a WAL-captured source."""
    out: dict[str, str] = {}
    for f in found:
        if f.wal_sources:
            mode, _, source = f.wal_sources[0].partition(" ")
            out[f.table] = (
                f"Stream table `{f.table}`: wait_for_sources cannot tell whether changes to "
                f"source `{source}` committed before the wait began are refreshed: pg_trickle "
                f"captures that source from the WAL (cdc_mode {mode}), so a change reaches "
                "its change buffer only when the WAL decoder polls it. Set "
                "`cdc_mode => 'trigger'` on the stream tables reading it, or wait without "
                "wait_for_sources."
            )
    return out


def refreshed_pending(
    found: Iterable[Refreshed], pairs: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], int]:
    """(table, token) -> `UNREFRESHED` for each pair whose table has not completed a refresh
    started at or after the token's time; tables with `refreshed_problems` are left out."""
    found = list(found)
    blocked = refreshed_problems(found)
    by_table = {f.table: f for f in found if f.table not in blocked}
    out: dict[tuple[str, str], int] = {}
    for name, token in set(pairs):
        f = by_table.get(name)
        if f is None or f.refresh_mode == "IMMEDIATE":
            continue
        _, at = split_token(token)
        if at is None or f.refreshed_at is None or f.refreshed_at < at:
            out[(name, token)] = UNREFRESHED
    return out


def gate(report: HealthReport, pending: Mapping[str, int]) -> HealthReport:
    """Healthy tables with pending changes (by qualified name) become waiting."""
    tables = tuple(
        TableHealth(t.stream_table, HealthState.WAITING, _pending_reason(pending[t.stream_table]))
        if t.state is HealthState.HEALTHY and pending.get(t.stream_table, 0) != 0
        else t
        for t in report.tables
    )
    return HealthReport(tables=tables, missing=report.missing)


def _pending_reason(count: int) -> str:
    if count == UNREFRESHED:
        return (
            "has completed no refresh since the sensor started, so source changes committed "
            "before the sensor started may not be refreshed yet"
        )
    return (
        f"has {count} source change(s) committed before the sensor started that are not "
        "refreshed yet"
    )
