"""The health query of `PgTrickleHealthSensor` (sync) and `PgTrickleHealthTrigger` (async).

What "healthy" means is decided in one place, the SQL expression rendered from
`airflow_provider_pgtrickle.vocabulary.health` (the dbt test and `pgtrickle_status` select the
same text). This module only builds the request rows around it and maps the (state, reason)
the database returns into a `HealthReport`, so a poke, a trigger poll and a dbt test judge a
table identically.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg import sql

from airflow_provider_pgtrickle.capabilities import ReadPath
from airflow_provider_pgtrickle.types import (
    HealthReport,
    HealthRow,
    HealthState,
    StreamTableStatus,
    TableHealth,
)
from airflow_provider_pgtrickle.vocabulary.health import (
    COLUMNS,
    LOOKUP,
    LOOKUP_BY_FUNCTIONS,
    ST_BY_FUNCTIONS,
    VERDICT_JOIN,
    VERDICT_JOIN_BY_FUNCTIONS,
    VERDICT_JOIN_FRESHNESS,
    Verdict,
)


@dataclass(frozen=True)
class Rules:
    """The parameters of the health rules (`vocabulary.health`, the ``req`` columns)."""

    max_staleness: float | None = None
    min_data_timestamp: datetime | None = None
    within_schedule: bool = False
    require_sla: bool = False  # the freshness SLA state must be MEETING


@dataclass(frozen=True)
class Judged:
    """One row of the health query: the table as read (None when missing) and its verdict."""

    stream_table: str
    rules: Rules
    verdict: Verdict
    reason: str
    row: HealthRow | None


# `ReadPath.CATALOG` (pg_trickle 0.67.0) reads the catalog table itself, not
# `pgtrickle.pg_stat_stream_tables`: that view aggregates the whole refresh history of every
# row it returns, and filtering it on a computed name keeps
# the planner from using the catalog's unique index on (pgt_schema, pgt_name) (pg_trickle
# sql/archive/pg_trickle--0.67.0.sql, idx_pgt_name). Each request row carries its own rule
# parameters, so one query answers any mix of waiting sensors; its cost follows the number of
# (table, rule set) pairs asked for, never the catalog's size.
_SELECT = sql.SQL(
    COLUMNS + ", req.max_staleness AS rule_max_staleness,"
    " req.min_data_timestamp AS rule_min_data_timestamp,"
    " req.within_schedule AS rule_within_schedule, req.require_sla AS rule_require_sla"
)
_RULE_ARRAYS = "%s::float8[], %s::timestamptz[], %s::boolean[], %s::boolean[]"
_RULE_COLUMNS = "max_staleness, min_data_timestamp, within_schedule, require_sla"

# Requested names are bound as one array of `schema.table` texts (validated names contain
# exactly one dot). A short list is looked up name by name (`LOOKUP`: one index probe per
# name). A long list is a plain join: the planner probes the index or, when the list covers
# much of the catalog, hashes it against one scan, which is then the cheaper plan. Rows come
# back in the order asked for (an integer sort, not a collated text sort).
_ONE_BY_ONE_MAX = 64
_REQ_BY_NAMES = (
    " FROM (SELECT split_part(u.qualified_name, '.', 1) AS pgt_schema,"
    " split_part(u.qualified_name, '.', 2) AS pgt_name, u.*"
    f" FROM unnest(%s::text[], {_RULE_ARRAYS}) WITH ORDINALITY"
    f" AS u(qualified_name, {_RULE_COLUMNS}, ord)) AS req"
)


def _queries(join: str) -> dict[str, sql.SQL]:
    return {
        "one_by_one": sql.SQL(_REQ_BY_NAMES + LOOKUP + join + " ORDER BY req.ord"),
        "joined": sql.SQL(
            _REQ_BY_NAMES + " LEFT JOIN pgtrickle.pgt_stream_tables AS st"
            " ON st.pgt_schema = req.pgt_schema AND st.pgt_name = req.pgt_name"
            + join
            + " ORDER BY req.ord"
        ),
        # The schema is bound as a plain value, not inside an array, so the planner sees it
        # and uses the catalog's (pgt_schema, pgt_name) index for a small schema.
        "schema": sql.SQL(
            " FROM (SELECT NULL::text AS pgt_schema, NULL::text AS pgt_name, u.*"
            f" FROM unnest({_RULE_ARRAYS}) WITH ORDINALITY AS u({_RULE_COLUMNS}, ord)) AS req"
            " CROSS JOIN pgtrickle.pgt_stream_tables AS st"
            + join
            + " WHERE st.pgt_schema = %s ORDER BY req.ord, st.pgt_name"
        ),
        "every": sql.SQL(
            " FROM (SELECT NULL::text AS pgt_schema, NULL::text AS pgt_name, u.*"
            f" FROM unnest({_RULE_ARRAYS}) WITH ORDINALITY AS u({_RULE_COLUMNS}, ord)) AS req"
            " CROSS JOIN pgtrickle.pgt_stream_tables AS st"
            + join
            + " ORDER BY req.ord, st.pgt_schema, st.pgt_name"
        ),
    }


# Keyed by whether the server has pgtrickle.freshness() (vocabulary.health, verdict_join).
_QUERIES = {False: _queries(VERDICT_JOIN), True: _queries(VERDICT_JOIN_FRESHNESS)}


# The same three shapes over the read functions (pg_trickle 0.96.0 and later, where the role
# may not read the catalog; `ReadPath.FUNCTIONS`). The functions return every stream table
# once per query; the names asked for filter their rows.
_F_BY_NAMES = sql.SQL(
    _REQ_BY_NAMES + LOOKUP_BY_FUNCTIONS + VERDICT_JOIN_BY_FUNCTIONS + " ORDER BY req.ord"
)
_F_BY_SCHEMA = sql.SQL(
    " FROM (SELECT NULL::text AS pgt_schema, NULL::text AS pgt_name, u.*"
    f" FROM unnest({_RULE_ARRAYS}) WITH ORDINALITY AS u({_RULE_COLUMNS}, ord)) AS req"
    f" CROSS JOIN {ST_BY_FUNCTIONS} AS st"
    + VERDICT_JOIN_BY_FUNCTIONS
    + " WHERE st.pgt_schema = %s ORDER BY req.ord, st.pgt_name"
)
_F_EVERY_TABLE = sql.SQL(
    " FROM (SELECT NULL::text AS pgt_schema, NULL::text AS pgt_name, u.*"
    f" FROM unnest({_RULE_ARRAYS}) WITH ORDINALITY AS u({_RULE_COLUMNS}, ord)) AS req"
    f" CROSS JOIN {ST_BY_FUNCTIONS} AS st"
    + VERDICT_JOIN_BY_FUNCTIONS
    + " ORDER BY req.ord, st.pgt_schema, st.pgt_name"
)


def _rule_params(rules: Sequence[Rules]) -> list[Any]:
    return [
        [r.max_staleness for r in rules],
        [r.min_data_timestamp for r in rules],
        [r.within_schedule for r in rules],
        [r.require_sla for r in rules],
    ]


def _with_freshness(rules: Iterable[Rules], freshness: bool | None) -> bool:
    # Unsaid: only where a rule needs the SLA state, which the caller checked the server has.
    return any(r.require_sla for r in rules) if freshness is None else freshness


def query_by_names(
    pairs: Sequence[tuple[str, Rules]],
    read_path: ReadPath = ReadPath.CATALOG,
    *,
    freshness: bool | None = None,
) -> tuple[sql.Composed, list[Any]]:
    """Each (validated `schema.table`, rules) pair judged once, in the order given.

    ``freshness``: the server has ``pgtrickle.freshness()`` (read the SLA state); ``None``:
    only when a rule requires the state. The read functions' path always reads it (0.104+).
    """
    if read_path is ReadPath.FUNCTIONS:
        source = _F_BY_NAMES
    else:
        queries = _QUERIES[_with_freshness((r for _, r in pairs), freshness)]
        source = queries["one_by_one"] if len(pairs) <= _ONE_BY_ONE_MAX else queries["joined"]
    params = [[name for name, _ in pairs], *_rule_params([rules for _, rules in pairs])]
    return sql.Composed([_SELECT, source]), params


def query_by_schema(
    schema: str,
    rules: Sequence[Rules],
    read_path: ReadPath = ReadPath.CATALOG,
    *,
    freshness: bool | None = None,
) -> tuple[sql.Composed, list[Any]]:
    """Every table of `schema`, judged under each rule set."""
    if read_path is ReadPath.FUNCTIONS:
        source = _F_BY_SCHEMA
    else:
        source = _QUERIES[_with_freshness(rules, freshness)]["schema"]
    return sql.Composed([_SELECT, source]), [*_rule_params(rules), schema]


def query_every_table(
    rules: Sequence[Rules],
    read_path: ReadPath = ReadPath.CATALOG,
    *,
    freshness: bool | None = None,
) -> tuple[sql.Composed, list[Any]]:
    """Every table of the catalog, judged under each rule set."""
    if read_path is ReadPath.FUNCTIONS:
        source = _F_EVERY_TABLE
    else:
        source = _QUERIES[_with_freshness(rules, freshness)]["every"]
    return sql.Composed([_SELECT, source]), _rule_params(rules)


def health_query(
    names: Sequence[str],
    schema: str | None,
    rules: Rules | None = None,
    read_path: ReadPath = ReadPath.CATALOG,
    *,
    freshness: bool | None = None,
) -> tuple[sql.Composed, list[Any]]:
    """The one query a poke sends: every requested table, or all of a schema / the catalog.

    `names` must already be validated and schema-qualified. Rows come back in the order of
    `names` (else by schema and name), in the column order `judged_rows` reads.
    """
    rules = rules or Rules()
    if names:
        return query_by_names([(name, rules) for name in names], read_path, freshness=freshness)
    if schema is not None:
        return query_by_schema(schema, [rules], read_path, freshness=freshness)
    return query_every_table([rules], read_path, freshness=freshness)


# Enum lookups by value through a dict: `StreamTableStatus(value)` costs a few microseconds,
# which adds up over thousands of rows per poke.
_STATUS_BY_VALUE = {status.value: status for status in StreamTableStatus}
_VERDICT_BY_VALUE = {verdict.value: verdict for verdict in Verdict}


def judged_rows(rows: Iterable[Sequence[Any]]) -> list[Judged]:
    """The rows of a health query, as `Judged` (column order: `vocabulary.health.COLUMNS`)."""
    out: list[Judged] = []
    for r in rows:
        name = f"{r[0]}.{r[1]}"
        row = (
            None
            if r[2] is None
            else HealthRow(
                schema=r[0],
                name=r[1],
                status=_STATUS_BY_VALUE.get(r[2]) or StreamTableStatus(r[2]),
                is_populated=bool(r[3]),
                consecutive_errors=int(r[4] or 0),
                staleness_seconds=None if r[5] is None else float(r[5]),
                data_timestamp=r[6],
                last_error_message=r[7],
                last_refresh_at=r[8],
                sla_status=r[13],
                error_code=r[14],
            )
        )
        rules = Rules(r[15], r[16], bool(r[17]), bool(r[18]))
        out.append(Judged(name, rules, _VERDICT_BY_VALUE[r[11]], r[12], row))
    return out


def rows_to_health(rows: Sequence[Sequence[Any]]) -> list[HealthRow]:
    """The stream tables a health query found (missing names left out)."""
    return [j.row for j in judged_rows(rows) if j.row is not None]


def classify(
    judged: Iterable[Judged], *, fail_on_error: bool, fail_on_paused: bool = False
) -> HealthReport:
    """The report for the verdicts of one sensor's tables.

    The verdicts come from the database (`vocabulary.health`); the only rules applied here are
    `fail_on_error=False`, which turns a failed table into one to wait for, and
    `fail_on_paused`, which turns a paused table (waited for by default) into a failed one.
    """
    tables: list[TableHealth] = []
    missing: list[str] = []
    for j in judged:
        if j.verdict is Verdict.MISSING:
            missing.append(j.stream_table)
            continue
        if j.verdict is Verdict.FAILED:
            state = HealthState.FAILED if fail_on_error else HealthState.WAITING
        elif j.verdict is Verdict.PAUSED:
            state = HealthState.FAILED if fail_on_paused else HealthState.WAITING
        elif j.verdict is Verdict.WAITING:
            state = HealthState.WAITING
        else:
            state = HealthState.HEALTHY
        tables.append(TableHealth(j.stream_table, state, j.reason))
    return HealthReport(tables=tuple(tables), missing=tuple(missing))
