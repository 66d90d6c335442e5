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

# Reads the catalog table itself, not `pgtrickle.pg_stat_stream_tables`: that view aggregates
# the whole refresh history of every row it returns, and filtering it on a computed name
# (`schema || '.' || name`) keeps the planner from using the catalog's unique index on
# (pgt_schema, pgt_name) (pg_trickle sql/archive/pg_trickle--0.67.0.sql, idx_pgt_name). The
# view's `staleness` is `now() - last_refresh_at`, computed here the same way.
_HEALTH_COLUMNS = sql.SQL(
    "SELECT st.pgt_schema, st.pgt_name, st.status, st.is_populated, st.consecutive_errors,"
    " EXTRACT(EPOCH FROM now() - st.last_refresh_at)::float8 AS staleness_seconds,"
    " st.data_timestamp,"
    # Auto-suspension after retryable failures records no last_error_message (only the
    # history does), so fall back to the newest failure since the last successful refresh.
    # Only the rules for failed or failing tables read the message, so only they pay for the
    # history lookup (one index probe by pgt_id).
    " CASE WHEN st.status IN ('ERROR', 'SUSPENDED') OR st.consecutive_errors > 0"
    " THEN COALESCE(st.last_error_message, (SELECT h.error_message"
    " FROM pgtrickle.pgt_refresh_history AS h WHERE h.pgt_id = st.pgt_id"
    " AND h.status = 'FAILED' AND h.start_time >= COALESCE(st.last_refresh_at, '-infinity')"
    " ORDER BY h.refresh_id DESC LIMIT 1)) ELSE st.last_error_message END"
    " AS last_error_message, st.last_refresh_at"
)

# Requested names are bound as one array of `schema.table` texts (validated names contain
# exactly one dot) and matched on the catalog's unique (pgt_schema, pgt_name) key, so the
# cost follows the number of names asked for, not the catalog's size. A short list is looked
# up name by name (the LIMIT, harmless on a unique key, keeps the planner from flattening the
# lookup into a join), which pins one index probe per name however the planner judges a
# small catalog. A long list is a plain join: the planner probes the index or, when the list
# covers much of the catalog, hashes it against one scan, which is then the cheaper plan.
# Rows come back in the order asked for (an integer sort, not a collated text sort).
_ONE_BY_ONE_MAX = 64
_BY_NAMES_ONE_BY_ONE = sql.SQL(
    " FROM unnest(%s::text[]) WITH ORDINALITY AS req(qualified_name, ord)"
    " CROSS JOIN LATERAL (SELECT * FROM pgtrickle.pgt_stream_tables AS one"
    " WHERE one.pgt_schema = split_part(req.qualified_name, '.', 1)"
    " AND one.pgt_name = split_part(req.qualified_name, '.', 2) LIMIT 1) AS st"
    " ORDER BY req.ord"
)
_BY_NAMES_JOINED = sql.SQL(
    " FROM unnest(%s::text[]) WITH ORDINALITY AS req(qualified_name, ord)"
    " JOIN pgtrickle.pgt_stream_tables AS st"
    " ON st.pgt_schema = split_part(req.qualified_name, '.', 1)"
    " AND st.pgt_name = split_part(req.qualified_name, '.', 2)"
    " ORDER BY req.ord"
)
_BY_SCHEMA = sql.SQL(
    " FROM pgtrickle.pgt_stream_tables AS st WHERE st.pgt_schema = %s ORDER BY st.pgt_name"
)
_EVERY_TABLE = sql.SQL(
    " FROM pgtrickle.pgt_stream_tables AS st ORDER BY st.pgt_schema, st.pgt_name"
)


def health_query(names: Sequence[str], schema: str | None) -> tuple[sql.Composed, list[Any]]:
    """The one query a poke sends: every requested table, or all of a schema / the catalog.

    `names` must already be validated and schema-qualified. Rows come back in the order of
    `names` (else by schema and name), in the column order `rows_to_health` reads.
    """
    params: list[Any]
    if names:
        one_by_one = len(names) <= _ONE_BY_ONE_MAX
        source = _BY_NAMES_ONE_BY_ONE if one_by_one else _BY_NAMES_JOINED
        params = [list(names)]
    elif schema is not None:
        source, params = _BY_SCHEMA, [schema]
    else:
        source, params = _EVERY_TABLE, []
    return sql.Composed([_HEALTH_COLUMNS, source]), params


# Enum lookup by value through a dict: `StreamTableStatus(value)` costs a few microseconds,
# which adds up over thousands of rows per poke.
_STATUS_BY_VALUE = {status.value: status for status in StreamTableStatus}


def rows_to_health(rows: Sequence[Sequence[Any]]) -> list[HealthRow]:
    return [
        HealthRow(
            schema=r[0],
            name=r[1],
            status=_STATUS_BY_VALUE.get(r[2]) or StreamTableStatus(r[2]),
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
    tables = tuple(
        _judge(
            row,
            max_staleness=max_staleness,
            min_data_timestamp=min_data_timestamp,
            fail_on_error=fail_on_error,
        )
        for row in rows
    )
    found = {table.stream_table for table in tables}
    missing = tuple(name for name in requested if name not in found)
    return HealthReport(tables=tables, missing=missing)
