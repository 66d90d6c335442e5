""" "Caught up" gating: has a stream table consumed every source change committed before a point?

pg_trickle's trigger-based change capture writes each change of a source table into its change
buffer ``<change_buffer_schema>.changes_<name>`` (default schema ``pgtrickle_changes``; the name
is ``pgt_change_tracking.source_stable_name``, or the source's OID for older rows) with the WAL
insert position (``lsn``) of the writing transaction (pg_trickle src/cdc/mod.rs). A refresh
records, per source, the position it has read up to in the stream table's ``frontier``
(``{"sources": {"<oid>": {"lsn": ...}}}``, src/version.rs). So a stream table reflects every
change committed before position ``since`` when no buffer row of any of its table sources lies
above its frontier and at or below ``since``.

`START_POSITION` is the point a sensor takes when it starts. For any number of (table, point)
pairs, `buffers_query()` reads where each table source's buffer is and how far the table has
read it, and `count_query()` counts the unconsumed changes up to each point in one more
statement (buffer names come from the catalog and are quoted as identifiers). `gate()` turns
healthy verdicts of tables with such changes into waiting ones.

Limits: only a stream table's direct table sources are checked (list upstream stream tables
too when one stream table reads another); sources captured through logical replication
(``cdc_mode = 'wal'``) reach the buffer asynchronously, so a change still in the WAL is not
seen.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from psycopg import sql

from airflow_provider_pgtrickle.types import HealthReport, HealthState, TableHealth

START_POSITION = "SELECT pg_current_wal_insert_lsn()::text"

_BUFFERS = sql.SQL(
    "SELECT st.pgt_schema || '.' || st.pgt_name AS name, b.nsp, b.buf, b.seen::text"
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
    " WHERE st.pgt_schema || '.' || st.pgt_name = ANY(%s::text[])"
    " AND to_regclass(format('%%I.%%I', b.nsp, b.buf)) IS NOT NULL"
)


def buffers_query(names: Iterable[str]) -> tuple[sql.SQL, list[Any]]:
    """Rows ``(table, buffer schema, buffer table, frontier lsn)``, one per table source."""
    return _BUFFERS, [sorted(set(names))]


def count_query(
    buffers: Iterable[tuple[Any, ...]], pairs: Iterable[tuple[str, str]]
) -> tuple[sql.Composed, list[Any]] | None:
    """One statement: rows ``(table, since, changes)``, one per pair and table source.

    ``None`` when no pair's table has a change buffer (nothing to wait for).
    """
    by_table: dict[str, list[tuple[str, str, str]]] = {}
    for name, nsp, buf, seen in buffers:
        by_table.setdefault(str(name), []).append((str(nsp), str(buf), str(seen)))
    parts: list[sql.Composable] = []
    params: list[Any] = []
    for name, since in sorted(set(pairs)):
        for nsp, buf, seen in by_table.get(name, []):
            parts.append(
                sql.SQL(
                    "SELECT %s::text, %s::text, (SELECT count(*) FROM {}"
                    " WHERE lsn > %s::pg_lsn AND lsn <= %s::pg_lsn)"
                ).format(sql.Identifier(nsp, buf))
            )
            params += [name, since, seen, since]
    if not parts:
        return None
    return sql.SQL(" UNION ALL ").join(parts), params


def totals(rows: Iterable[tuple[Any, ...]]) -> dict[tuple[str, str], int]:
    """Sum `count_query` rows per (table, since)."""
    out: dict[tuple[str, str], int] = {}
    for name, since, changes in rows:
        key = (str(name), str(since))
        out[key] = out.get(key, 0) + int(changes)
    return out


def gate(report: HealthReport, pending: Mapping[str, int]) -> HealthReport:
    """Healthy tables with pending changes (by qualified name) become waiting."""
    tables = tuple(
        TableHealth(
            t.stream_table,
            HealthState.WAITING,
            f"has {pending[t.stream_table]} source change(s) committed before the sensor "
            "started that are not refreshed yet",
        )
        if t.state is HealthState.HEALTHY and pending.get(t.stream_table, 0) > 0
        else t
        for t in report.tables
    )
    return HealthReport(tables=tables, missing=report.missing)
