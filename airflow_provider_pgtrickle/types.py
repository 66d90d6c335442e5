"""Enums and frozen result dataclasses shared by the hook, operators, sensor and trigger.

Enum values are the SQL spellings pg_trickle uses, so a value read from the catalog converts
with ``StreamTableStatus(row["status"])``. Every result class has ``to_dict()`` returning
JSON-native values (datetimes as ISO 8601 strings, durations as seconds) for XCom.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
from datetime import datetime, timedelta
from typing import Any

from airflow_provider_pgtrickle.vocabulary.health import FAILED_STATUSES


class RefreshMode(str, enum.Enum):
    """`refresh_mode` argument; the catalog only ever stores FULL, DIFFERENTIAL or IMMEDIATE."""

    AUTO = "AUTO"
    FULL = "FULL"
    DIFFERENTIAL = "DIFFERENTIAL"
    IMMEDIATE = "IMMEDIATE"


class StreamTableStatus(str, enum.Enum):
    """`pgt_stream_tables.status` (there is no PAUSED status in pg_trickle)."""

    INITIALIZING = "INITIALIZING"
    ACTIVE = "ACTIVE"
    SUSPENDED = "SUSPENDED"
    ERROR = "ERROR"

    @property
    def is_failed(self) -> bool:
        """pg_trickle refreshes nothing in this status until someone acts (the one list:
        `vocabulary.health.FAILED_STATUSES`)."""
        return self.value in FAILED_STATUSES


class HealthSeverity(str, enum.Enum):
    """`health_check()` severities (upstream spells one check `WARNING`)."""

    OK = "OK"
    WARN = "WARN"
    WARNING = "WARNING"
    ERROR = "ERROR"


class RefreshOutcome(str, enum.Enum):
    """What the refresh operator did with one stream table."""

    REFRESHED = "refreshed"
    SKIPPED = "skipped"  # another session held the lock; pg_trickle changed nothing
    SKIPPED_UNHEALTHY = "skipped_unhealthy"  # SUSPENDED or ERROR, not refreshed
    FAILED = "failed"
    UPSTREAM_FAILED = "upstream_failed"  # not attempted because an upstream refresh failed


class DeployOutcome(str, enum.Enum):
    """What an idempotent deploy (create or replace) did."""

    CREATED = "created"
    ALTERED = "altered"
    UNCHANGED = "unchanged"


class HealthState(str, enum.Enum):
    """Verdict of the health rules for one stream table."""

    HEALTHY = "healthy"
    WAITING = "waiting"
    FAILED = "failed"


def _json(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, _JsonMixin):
        return value.to_dict()
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, (list, tuple)):
        return [_json(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _json(v) for k, v in value.items()}
    return value


class _JsonMixin:
    def to_dict(self) -> dict[str, Any]:
        """JSON-native copy for XCom (ISO datetimes, seconds for durations)."""
        return {
            f.name: _json(getattr(self, f.name))
            for f in dataclasses.fields(self)  # type: ignore[arg-type]
        }


@dataclasses.dataclass(frozen=True)
class StreamTable(_JsonMixin):
    """One row of `pgtrickle.pgt_stream_tables` (the columns clients use)."""

    pgt_id: int
    relid: int
    schema: str
    name: str
    defining_query: str
    original_query: str | None
    schedule: str | None
    refresh_mode: RefreshMode
    status: StreamTableStatus
    is_populated: bool
    data_timestamp: datetime | None
    last_refresh_at: datetime | None
    consecutive_errors: int
    needs_reinit: bool
    diamond_consistency: str
    diamond_schedule_policy: str
    requested_cdc_mode: str | None
    is_append_only: bool
    pooler_compatibility_mode: bool
    refresh_tier: str
    effective_refresh_mode: str | None
    last_error_message: str | None
    last_error_at: datetime | None
    created_at: datetime
    updated_at: datetime

    @property
    def qualified_name(self) -> str:
        return f"{self.schema}.{self.name}"


@dataclasses.dataclass(frozen=True)
class StreamTableStats(_JsonMixin):
    """One row of the monitoring view `pgtrickle.pg_stat_stream_tables` (`pgt_id`,
    `needs_reinit` and `cdc_modes` are None where it is read through pg_trickle's read
    functions, which do not return them)."""

    pgt_id: int | None
    schema: str
    name: str
    status: StreamTableStatus
    refresh_mode: RefreshMode
    is_populated: bool
    data_timestamp: datetime | None
    schedule: str | None
    staleness: timedelta | None
    stale: bool | None
    consecutive_errors: int
    needs_reinit: bool | None
    last_refresh_at: datetime | None
    total_refreshes: int
    successful_refreshes: int
    failed_refreshes: int
    total_rows_inserted: int
    total_rows_deleted: int
    avg_duration_ms: float | None
    last_action: str | None
    last_status: str | None
    cdc_modes: tuple[str, ...] | None
    refresh_tier: str

    @property
    def qualified_name(self) -> str:
        return f"{self.schema}.{self.name}"


@dataclasses.dataclass(frozen=True)
class HealthCheck(_JsonMixin):
    """One row of `pgtrickle.health_check()`."""

    check_name: str
    severity: HealthSeverity
    detail: str | None


@dataclasses.dataclass(frozen=True)
class RefreshHistoryEntry(_JsonMixin):
    """One row of `pgtrickle.get_refresh_history()`, newest first."""

    refresh_id: int
    data_timestamp: datetime | None
    start_time: datetime
    end_time: datetime | None
    action: str
    status: str
    rows_inserted: int | None
    rows_deleted: int | None
    duration_ms: float | None
    error_message: str | None


@dataclasses.dataclass(frozen=True)
class DependencyEdge(_JsonMixin):
    """A stream table reads `source` (a table, view, or another stream table)."""

    stream_table: str
    source: str
    source_type: str
    cdc_mode: str


@dataclasses.dataclass(frozen=True)
class RefreshPlanEntry(_JsonMixin):
    """A stream table, its status and the stream tables it reads (what a refresh orders by)."""

    name: str
    status: StreamTableStatus
    upstream: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class ExtensionInfo(_JsonMixin):
    """What is installed: `extversion`, the loaded library version, and probed features."""

    extension_version: str
    library_version: str | None
    features: tuple[str, ...]

    def supports(self, feature: str) -> bool:
        return feature in self.features


@dataclasses.dataclass(frozen=True)
class RefreshResult(_JsonMixin):
    """Outcome of refreshing one stream table (XCom-ready through ``to_dict()``)."""

    stream_table: str
    action: RefreshOutcome
    refresh_action: str | None = None  # history `action`: FULL / DIFFERENTIAL / ...
    rows_inserted: int | None = None
    rows_deleted: int | None = None
    duration_ms: float | None = None
    data_timestamp: datetime | None = None
    message: str | None = None
    # pg_trickle's error code of a failed refresh and whether Airflow retries it
    # (vocabulary/failures.py); None where the server has no typed errors (0.67.0).
    error_code: str | None = None
    retryable: bool | None = None


@dataclasses.dataclass(frozen=True)
class DeployResult(_JsonMixin):
    """Outcome of an idempotent create-or-replace."""

    stream_table: str
    action: DeployOutcome
    changed: tuple[str, ...] = ()  # catalog fields that changed when altered


@dataclasses.dataclass(frozen=True)
class HealthRow:
    """What the health rules need about one stream table (one row of the health query)."""

    schema: str
    name: str
    status: StreamTableStatus
    is_populated: bool
    consecutive_errors: int
    staleness_seconds: float | None
    data_timestamp: datetime | None
    last_error_message: str | None
    last_refresh_at: datetime | None = None
    # pg_trickle's freshness SLA state (MEETING, AT_RISK, ...; NOT_APPLICABLE without an
    # interval target; None where the server has no freshness()) and the last error's code
    # (failing tables on servers with typed errors).
    sla_status: str | None = None
    error_code: str | None = None

    @property
    def qualified_name(self) -> str:
        return f"{self.schema}.{self.name}"


@dataclasses.dataclass(frozen=True)
class TableHealth(_JsonMixin):
    """Verdict of the health rules for one stream table."""

    stream_table: str
    state: HealthState
    reason: str


# How many tables a health report names in its message and payload. A sensor over thousands
# of stream tables must not build, log and store thousands of lines on every poke: the counts
# say how many are in each state, the first few unhealthy ones say why.
REPORT_LIMIT = 10


def _more(count: int, what: str = "") -> str:
    if count <= 0:
        return ""
    return f" and {count} more {what}".rstrip()


@dataclasses.dataclass(frozen=True)
class HealthReport(_JsonMixin):
    """Verdict for every table a sensor waits for.

    `tables` holds every verdict (in catalog order: schema, name); `message` and `to_dict()`
    summarize them so their size does not grow with the number of tables: counts per state
    plus at most `REPORT_LIMIT` tables by name, unhealthy ones first.
    """

    tables: tuple[TableHealth, ...]
    missing: tuple[str, ...] = ()

    @functools.cached_property
    def _by_state(self) -> dict[HealthState, list[TableHealth]]:
        groups: dict[HealthState, list[TableHealth]] = {state: [] for state in HealthState}
        for table in self.tables:
            groups[table.state].append(table)
        return groups

    @property
    def counts(self) -> dict[str, int]:
        """Number of tables per state, plus requested names missing from the catalog."""
        counts = {state.value: len(group) for state, group in self._by_state.items()}
        counts["missing"] = len(self.missing)
        return counts

    @property
    def state(self) -> HealthState:
        groups = self._by_state
        if self.missing or groups[HealthState.FAILED]:
            return HealthState.FAILED
        if not self.tables or groups[HealthState.WAITING]:
            return HealthState.WAITING
        return HealthState.HEALTHY

    def _listed(self, tables: list[TableHealth]) -> str:
        shown = "; ".join(f"`{t.stream_table}` {t.reason}" for t in tables[:REPORT_LIMIT])
        return shown + _more(len(tables) - REPORT_LIMIT, tables[0].state.value)

    def _tally(self) -> str:
        """Counts, added only when the message cannot name every table."""
        if len(self.tables) + len(self.missing) <= REPORT_LIMIT:
            return ""
        counts = self.counts
        parts = [f"{counts[state.value]} {state.value}" for state in HealthState]
        if self.missing:
            parts.append(f"{len(self.missing)} missing")
        return f" ({len(self.tables) + len(self.missing)} checked: {', '.join(parts)})"

    @functools.cached_property
    def message(self) -> str:
        groups = self._by_state
        failed, waiting = groups[HealthState.FAILED], groups[HealthState.WAITING]
        parts: list[str] = []
        if self.missing:
            names = ", ".join(f"`{n}`" for n in self.missing[:REPORT_LIMIT])
            names += _more(len(self.missing) - REPORT_LIMIT)
            parts.append(
                f"Stream table(s) {names} not found in the pg_trickle catalog; check the names "
                "(schema-qualified, lower case) or create them first"
            )
        if failed:
            parts.append(self._listed(failed))
            parts.append("resume them with `PgTrickleResumeOperator` once the cause is fixed")
        if parts:
            return "; ".join(parts) + self._tally() + "."
        if not self.tables:
            return "No stream tables matched; create them or widen the selection."
        if waiting:
            return self._listed(waiting) + self._tally() + "."
        healthy = groups[HealthState.HEALTHY]
        names = ", ".join(f"`{t.stream_table}`" for t in healthy[:REPORT_LIMIT])
        names += _more(len(healthy) - REPORT_LIMIT)
        return f"Stream table(s) {names} healthy."

    def to_dict(self) -> dict[str, Any]:
        """Bounded JSON summary (the sensor's XCom, the trigger's event ``report``).

        ``state`` and ``message``; ``counts`` per state (``healthy``, ``waiting``,
        ``failed``, ``missing``); ``tables``: at most `REPORT_LIMIT` verdicts, failed first,
        then waiting, then healthy, each ``{"stream_table", "state", "reason"}``;
        ``missing``: at most `REPORT_LIMIT` requested names not in the catalog; ``omitted``:
        how many verdicts ``tables`` leaves out.
        """
        groups = self._by_state
        ordered = [*groups[HealthState.FAILED], *groups[HealthState.WAITING]]
        ordered += groups[HealthState.HEALTHY]
        return {
            "state": self.state.value,
            "message": self.message,
            "counts": self.counts,
            "tables": [t.to_dict() for t in ordered[:REPORT_LIMIT]],
            "missing": list(self.missing[:REPORT_LIMIT]),
            "omitted": max(len(ordered) - REPORT_LIMIT, 0),
        }

    def table_names(self) -> list[str]:
        return [t.stream_table for t in self.tables] + list(self.missing)


class QueryChangeClass(str, enum.Enum):
    """How pg_trickle would take a new defining query (``explain_alter``, 0.91.0+)."""

    COMPATIBLE = "compatible"  # the same query: every piece of state is reusable
    REBUILDABLE = "rebuildable"  # rebuilt in shadow storage and swapped atomically
    REJECTED = "rejected"  # the stream table cannot take it


@dataclasses.dataclass(frozen=True)
class QueryChangePlan(_JsonMixin):
    """pg_trickle's classification of a query change, made without changing anything."""

    stream_table: str
    classification: QueryChangeClass
    reason: str | None = None
    reason_code: str | None = None  # ALTER_QUERY_REBUILD / ALTER_QUERY_REJECTED


class OrchestrationMode(str, enum.Enum):
    """Who refreshes a stream table (pg_trickle 0.93.0, `orchestration_mode`)."""

    MANAGED = "MANAGED"  # pg_trickle's scheduler (and `refresh_stream_table`)
    EXTERNAL = "EXTERNAL"  # only a coordinator, through `refresh_graph_strict`


class FullPolicy(str, enum.Enum):
    """`full_policy` of `refresh_graph_strict` (pg_trickle 0.94.0 / 0.100.0)."""

    ALLOW = "ALLOW"  # a member may take a whole-query FULL refresh
    ERROR = "ERROR"  # fail the whole graph refresh instead (nothing is committed)


@dataclasses.dataclass(frozen=True)
class GraphNodeResult(_JsonMixin):
    """One member of a strict graph refresh, as `refresh_graph_strict` reported it."""

    stream_table: str
    relid: int
    result_class: str  # COMPLETED, or NO_DATA when no row changed
    action: str  # FULL / DIFFERENTIAL / REINITIALIZE / ...
    rows_inserted: int
    rows_updated: int
    rows_deleted: int
    contract_generation: int


@dataclasses.dataclass(frozen=True)
class GraphRefreshResult(_JsonMixin):
    """What one `refresh_graph_strict` call did: its id, the graph digest it was checked
    against (hex), the source boundary digest (hex), the roots asked for and one result per
    member in topological order (upstream first). Committed as a whole or not at all."""

    graph_refresh_id: int
    graph_digest: str
    source_boundary_digest: str
    roots: tuple[str, ...]
    full_policy: FullPolicy
    nodes: tuple[GraphNodeResult, ...]

    def node(self, stream_table: str) -> GraphNodeResult:
        """The result of one member (a `KeyError` for a table outside the graph)."""
        for found in self.nodes:
            if found.stream_table == stream_table:
                return found
        raise KeyError(stream_table)
