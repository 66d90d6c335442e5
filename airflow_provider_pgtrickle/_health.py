"""Health rules shared by `PgTrickleHealthSensor` (sync) and `PgTrickleHealthTrigger` (async).

Both run the same single query (`health_query`) and classify the rows with `classify`, so a
poke and a trigger poll judge a table identically.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from psycopg import sql

from airflow_provider_pgtrickle.types import (
    HealthReport,
    HealthRow,
    HealthState,
    StreamTableStatus,
    TableHealth,
)

_HEALTH_SELECT = sql.SQL(
    "SELECT s.pgt_schema, s.pgt_name, s.status, s.is_populated, s.consecutive_errors,"
    " EXTRACT(EPOCH FROM s.staleness)::float8 AS staleness_seconds, s.data_timestamp,"
    # Auto-suspension after retryable failures records no last_error_message (only the
    # history does), so fall back to the newest failure since the last successful refresh.
    " COALESCE(st.last_error_message, (SELECT h.error_message"
    " FROM pgtrickle.pgt_refresh_history AS h WHERE h.pgt_id = s.pgt_id"
    " AND h.status = 'FAILED' AND h.start_time >= COALESCE(st.last_refresh_at, '-infinity')"
    " ORDER BY h.refresh_id DESC LIMIT 1)) AS last_error_message, s.last_refresh_at"
    " FROM pgtrickle.pg_stat_stream_tables AS s"
    " JOIN pgtrickle.pgt_stream_tables AS st ON st.pgt_id = s.pgt_id"
)


def health_query(names: Sequence[str], schema: str | None) -> tuple[sql.Composed, list[Any]]:
    """The one query a poke sends: every requested table, or all of a schema / the catalog.

    `names` must already be validated and schema-qualified.
    """
    if names:
        where = sql.SQL(" WHERE s.pgt_schema || '.' || s.pgt_name = ANY(%s::text[])")
        params: list[Any] = [list(names)]
    elif schema is not None:
        where = sql.SQL(" WHERE s.pgt_schema = %s")
        params = [schema]
    else:
        where = sql.SQL("")
        params = []
    query = sql.Composed([_HEALTH_SELECT, where, sql.SQL(" ORDER BY s.pgt_schema, s.pgt_name")])
    return query, params


def rows_to_health(rows: Sequence[Sequence[Any]]) -> list[HealthRow]:
    return [
        HealthRow(
            schema=r[0],
            name=r[1],
            status=StreamTableStatus(r[2]),
            is_populated=bool(r[3]),
            consecutive_errors=int(r[4] or 0),
            staleness_seconds=None if r[5] is None else float(r[5]),
            data_timestamp=r[6],
            last_error_message=r[7],
            last_refresh_at=r[8],
        )
        for r in rows
    ]


def _judge(
    row: HealthRow,
    *,
    max_staleness: float | None,
    min_data_timestamp: datetime | None,
    fail_on_error: bool,
) -> TableHealth:
    name = row.qualified_name
    if row.status.is_failed:
        error = row.last_error_message or "no error message recorded"
        reason = f"is {row.status.value}: {error}"
        state = HealthState.FAILED if fail_on_error else HealthState.WAITING
        return TableHealth(name, state, reason)
    if not row.is_populated or row.status is StreamTableStatus.INITIALIZING:
        return TableHealth(name, HealthState.WAITING, "is not populated yet")
    if row.consecutive_errors > 0:
        last = f"; last: {row.last_error_message}" if row.last_error_message else ""
        return TableHealth(
            name,
            HealthState.WAITING,
            f"has {row.consecutive_errors} consecutive refresh error(s){last}",
        )
    if max_staleness is not None and (
        row.staleness_seconds is None or row.staleness_seconds > max_staleness
    ):
        age = "never" if row.staleness_seconds is None else f"{row.staleness_seconds:.0f}s ago"
        return TableHealth(
            name,
            HealthState.WAITING,
            f"is stale: last refreshed {age}, max_staleness is {max_staleness:g}s",
        )
    current_as_of = row.current_as_of
    if min_data_timestamp is not None and (
        current_as_of is None or current_as_of < min_data_timestamp
    ):
        seen = current_as_of.isoformat() if current_as_of else "never"
        return TableHealth(
            name,
            HealthState.WAITING,
            f"was last refreshed {seen}, before the data interval end "
            f"{min_data_timestamp.isoformat()}",
        )
    return TableHealth(name, HealthState.HEALTHY, "is healthy")


def classify(
    rows: Sequence[HealthRow],
    *,
    requested: Sequence[str],
    max_staleness: float | None,
    min_data_timestamp: datetime | None,
    fail_on_error: bool,
) -> HealthReport:
    """Apply the health rules to the rows of `health_query`.

    A table is healthy when it is ACTIVE, populated, has no consecutive errors, was refreshed
    within `max_staleness` seconds and (optionally) is current as of `min_data_timestamp`
    (`HealthRow.current_as_of`; the rule is in docs/pg_trickle-contract.md).
    ERROR/SUSPENDED tables fail (or wait, with `fail_on_error=False`); names in `requested`
    that are not in the catalog fail.
    """
    found = {row.qualified_name for row in rows}
    missing = tuple(name for name in requested if name not in found)
    tables = tuple(
        _judge(
            row,
            max_staleness=max_staleness,
            min_data_timestamp=min_data_timestamp,
            fail_on_error=fail_on_error,
        )
        for row in rows
    )
    return HealthReport(tables=tables, missing=missing)
