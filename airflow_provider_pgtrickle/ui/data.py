"""What the stream tables page shows, read through `PgTrickleHook`.

One page load costs two catalog queries (`overview`: the stream tables with their health
fields, and the hook's `dependency_graph`), each a single pass over the pg_trickle catalog.
Where the role may not read the catalog (pg_trickle 0.96.0 and later), the same columns come
from the read functions (`ReadPath.FUNCTIONS`): one call of each per page load, plus one
`get_refresh_history` per table for the last completed refresh and one `list_sources` per
table for the graph.
The last error falls back to the newest failed history row since the last refresh, an index
probe on `pgt_refresh_history (pgt_id, refresh_id)` per table, exactly as the health sensor
does. Nothing here aggregates the refresh history, so the cost follows the number of stream
tables and edges, never the length of the history.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import os
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from airflow_provider_pgtrickle.capabilities import Feature, ReadPath
from airflow_provider_pgtrickle.types import (
    RefreshHistoryEntry,
    StreamTableStatus,
    _JsonMixin,
)
from airflow_provider_pgtrickle.vocabulary.health import (
    ERROR_CODE,
    HISTORY_ROWS,
    LAST_ERROR,
    LAST_ERROR_BY_FUNCTIONS,
    NEEDS_RECREATION,
    ST_BY_FUNCTIONS,
    VERDICT_JOIN,
    VERDICT_JOIN_BY_FUNCTIONS,
    VERDICT_JOIN_FRESHNESS,
    Verdict,
)

if TYPE_CHECKING:
    from airflow_provider_pgtrickle.hooks.pgtrickle import PgTrickleHook

# Connection types whose connections the page offers (both use PgTrickleHook's fields).
CONNECTION_TYPES = ("postgres", "pgtrickle")


# No read function returns the catalog's last_error_at: on the read-function path it is
# when the newest failed refresh in the history ended, asked only for tables that show an
# error (one `get_refresh_history` call each).
_LAST_ERROR_AT_BY_FUNCTIONS = (
    "CASE WHEN st.last_error_message IS NOT NULL OR st.consecutive_errors > 0"
    " OR st.status IN ('ERROR', 'SUSPENDED') THEN (SELECT max(COALESCE(h.end_time, h.start_time))"
    " FROM pgtrickle.get_refresh_history(name => st.pgt_schema || '.' || st.pgt_name,"
    f" max_rows => {HISTORY_ROWS}) AS h WHERE h.status = 'FAILED') END"
)


def _overview_sql(read_path: ReadPath, freshness: bool) -> str:
    functions = read_path is ReadPath.FUNCTIONS
    if functions:
        join = VERDICT_JOIN_BY_FUNCTIONS
    else:
        # The freshness SLA state where the server has freshness() (pg_trickle 0.90.0+).
        join = VERDICT_JOIN_FRESHNESS if freshness else VERDICT_JOIN
    return (
        "SELECT verdict.pair[1] AS health, verdict.pair[2] AS health_reason,"
        " st.pgt_schema, st.pgt_name, st.status, st.refresh_mode, st.schedule,"
        # The last completed refresh as the health rules read it (`seen`,
        # vocabulary.health): some refreshes write no catalog timestamp.
        " st.is_populated, st.consecutive_errors, seen.refreshed_at AS last_refresh_at,"
        " st.data_timestamp, EXTRACT(EPOCH FROM now() - seen.refreshed_at)::float8"
        " AS staleness_seconds, st.stale,"
        " st.fuse_mode, st.fuse_state,"
        f" {_LAST_ERROR_AT_BY_FUNCTIONS if functions else 'st.last_error_at'} AS last_error_at,"
        # Auto-suspension records no last_error_message (only the history does): the health
        # rules' fallback (vocabulary.health.LAST_ERROR).
        f" {LAST_ERROR_BY_FUNCTIONS if functions else LAST_ERROR} AS last_error_message,"
        # On 0.67.0 V1 is the only row identity (vocabulary.health.NEEDS_RECREATION).
        f" {NEEDS_RECREATION if functions else 'false'} AS needs_recreation,"
        # The freshness SLA state and the last error's code, as the health rules read them.
        " sla.status AS sla_status,"
        " CASE WHEN st.consecutive_errors > 0 OR st.status IN ('ERROR', 'SUSPENDED')"
        f" THEN {ERROR_CODE} END AS error_code"
        # stream_tables_info is the catalog plus staleness and `stale`, without the history
        # aggregates of pg_stat_stream_tables (pg_trickle sql/archive/pg_trickle--0.67.0.sql);
        # where the role may not read it (0.96.0 and later), the read functions give the
        # same columns (vocabulary.health.ST_BY_FUNCTIONS). The health rules are the
        # sensor's, judged in the query; the page also flags tables older than their own
        # schedule (`within_schedule`).
        f" FROM {ST_BY_FUNCTIONS if functions else 'pgtrickle.stream_tables_info'} AS st"
        " CROSS JOIN (SELECT NULL::float8 AS max_staleness,"
        " NULL::timestamptz AS min_data_timestamp, true AS within_schedule,"
        " false AS require_sla) AS req" + join + " ORDER BY st.pgt_schema, st.pgt_name"
    )


_OVERVIEW_SQL = {
    (path, freshness): _overview_sql(path, freshness)
    for path in ReadPath
    for freshness in (False, True)
}


class Health(str, enum.Enum):
    """Colour of a stream table on the page."""

    HEALTHY = "healthy"
    WARNING = "warning"  # waiting, erroring or stale: needs a look, not broken
    FAILED = "failed"  # the health rules' failed: refreshes stopped (status or blown fuse)


@dataclasses.dataclass(frozen=True)
class StreamTableView(_JsonMixin):
    """One row of the page's table (and one stream-table node of its graph)."""

    name: str
    schema: str
    status: StreamTableStatus
    refresh_mode: str
    schedule: str | None
    staleness_seconds: float | None
    stale: bool | None
    last_refresh_at: datetime | None
    data_timestamp: datetime | None
    consecutive_errors: int
    last_error_message: str | None
    last_error_at: datetime | None
    fuse_mode: str
    fuse_state: str
    needs_recreation: bool  # row identity V1 left by an upgrade: drop and create it again
    dbt_model: str | None  # unique_id of the dbt model that manages it, when known
    dbt_managed: bool | None  # None: no dbt manifest configured, so unknown
    health: Health
    health_reason: str  # the health rules' words, e.g. "is ERROR: <error>"
    sla_status: str | None = None  # pg_trickle's freshness SLA state, where it has one
    error_code: str | None = None  # the last error's code (typed errors, failing tables)


@dataclasses.dataclass(frozen=True)
class GraphNode(_JsonMixin):
    id: str
    kind: str  # "stream_table" or the pg_trickle source type of a plain source (TABLE, VIEW…)
    health: Health | None  # None for sources that are not stream tables


@dataclasses.dataclass(frozen=True)
class GraphEdge(_JsonMixin):
    source: str
    target: str


@dataclasses.dataclass(frozen=True)
class Overview(_JsonMixin):
    """Everything one page load shows for one connection."""

    connection_id: str
    stream_tables: tuple[StreamTableView, ...]
    nodes: tuple[GraphNode, ...]
    edges: tuple[GraphEdge, ...]
    dbt_manifest: str | None
    generated_at: datetime

    def to_dict(self) -> dict[str, Any]:
        """JSON-native form. `_JsonMixin.to_dict` looks fields up per object, which costs
        most of the page's server time at 2,000 tables; the field names are fixed here."""
        return {
            "connection_id": self.connection_id,
            "stream_tables": [_record(t, _VIEW_FIELDS) for t in self.stream_tables],
            "nodes": [{"id": n.id, "kind": n.kind, "health": _plain(n.health)} for n in self.nodes],
            "edges": [{"source": e.source, "target": e.target} for e in self.edges],
            "dbt_manifest": self.dbt_manifest,
            "generated_at": self.generated_at.isoformat(),
        }


_VIEW_FIELDS = tuple(f.name for f in dataclasses.fields(StreamTableView))


def _plain(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def _record(item: Any, names: tuple[str, ...]) -> dict[str, Any]:
    return {name: _plain(getattr(item, name)) for name in names}


# The page's colour for each verdict of the health rules. The rules alone decide (a blown
# fuse included, vocabulary.health); the page adds none of its own.
_COLOUR = {
    Verdict.HEALTHY.value: Health.HEALTHY,
    Verdict.WAITING.value: Health.WARNING,
    Verdict.FAILED.value: Health.FAILED,
    Verdict.MISSING.value: Health.FAILED,
    Verdict.PAUSED.value: Health.WARNING,  # stopped on purpose: needs a look, not broken
}


def judge(rows: list[dict[str, Any]]) -> list[tuple[Health, str]]:
    """The page's colour and words for rows judged by the health rules (`health`,
    `health_reason`)."""
    return [(_COLOUR[row["health"]], row["health_reason"]) for row in rows]


def overview(
    hook: PgTrickleHook, connection_id: str, dbt_models: DbtModels | None = None
) -> Overview:
    """The table rows and the dependency graph for one connection."""
    with hook._reader(operation="read stream tables for the UI") as cur:
        caps = hook.capabilities(cur.connection)
        rows = cur.execute(_OVERVIEW_SQL[caps.read_path, caps.has(Feature.FRESHNESS)]).fetchall()
    edges = hook.dependency_graph()
    tables: list[StreamTableView] = []
    for row, (health, reason) in zip(rows, judge(rows), strict=True):
        name = f"{row['pgt_schema']}.{row['pgt_name']}"
        model = dbt_models.models.get(name) if dbt_models else None
        tables.append(
            StreamTableView(
                name=name,
                schema=row["pgt_schema"],
                status=StreamTableStatus(row["status"]),
                refresh_mode=row["refresh_mode"],
                schedule=row["schedule"],
                staleness_seconds=row["staleness_seconds"],
                stale=row["stale"],
                last_refresh_at=row["last_refresh_at"],
                data_timestamp=row["data_timestamp"],
                consecutive_errors=int(row["consecutive_errors"] or 0),
                last_error_message=row["last_error_message"],
                last_error_at=row["last_error_at"],
                fuse_mode=row["fuse_mode"],
                fuse_state=row["fuse_state"],
                needs_recreation=bool(row["needs_recreation"]),
                dbt_model=model,
                dbt_managed=None if dbt_models is None else model is not None,
                health=health,
                health_reason=reason,
                sla_status=row["sla_status"],
                error_code=row["error_code"],
            )
        )
    health_of = {t.name: t.health for t in tables}
    nodes = [GraphNode(t.name, "stream_table", t.health) for t in tables]
    seen = set(health_of)
    for edge in edges:
        if edge.source not in seen:
            seen.add(edge.source)
            nodes.append(GraphNode(edge.source, edge.source_type, None))
    return Overview(
        connection_id=connection_id,
        stream_tables=tuple(tables),
        nodes=tuple(nodes),
        edges=tuple(GraphEdge(e.source, e.stream_table) for e in edges),
        dbt_manifest=dbt_models.path if dbt_models else None,
        generated_at=datetime.now().astimezone(),
    )


def history(hook: PgTrickleHook, name: str, max_rows: int = 30) -> list[RefreshHistoryEntry]:
    """Recent refreshes of one stream table, oldest first (the order a chart reads)."""
    return list(reversed(hook.get_refresh_history(name, max_rows=max_rows)))


@dataclasses.dataclass(frozen=True)
class DbtModels:
    """Stream tables a dbt project manages: relation name -> model unique_id."""

    path: str
    models: dict[str, str]


_manifest_cache: dict[str, tuple[float, DbtModels]] = {}


def load_dbt_models(path: str) -> DbtModels:
    """Stream-table models of a dbt `manifest.json`, re-read only when the file changes.

    A manifest is tens of megabytes in large projects, so it is parsed once per change, not
    per page load.
    """
    file = Path(path)
    mtime = file.stat().st_mtime
    cached = _manifest_cache.get(path)
    if cached and cached[0] == mtime:
        return cached[1]
    manifest = json.loads(file.read_text(encoding="utf-8"))
    models: dict[str, str] = {}
    for unique_id, node in manifest.get("nodes", {}).items():
        config = node.get("config") or {}
        if node.get("resource_type") != "model" or config.get("materialized") != "stream_table":
            continue
        relation = node.get("alias") or node.get("name")
        # pg_trickle stores unquoted (lower-case) names; dbt's relation names are as written.
        models[f"{node.get('schema')}.{relation}".lower()] = unique_id
    result = DbtModels(path=os.fspath(file), models=models)
    _manifest_cache[path] = (mtime, result)
    return result
