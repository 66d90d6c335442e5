"""What "healthy" means for a stream table, written once.

`RULES` is an ordered list: the first rule whose condition holds gives the table's state and
the reason in words. The rules render into ONE SQL expression (`VERDICT_JOIN`), which every
caller selects: the health sensor and its trigger (`airflow_provider_pgtrickle._health`), the
provider's UI, the dbt generic test `stream_table_healthy` and the run-operation
`pgtrickle_status` (through the generated macro `pgtrickle_health_vocabulary`). Nothing else
decides health; Python only maps the state the database returns (and `fail_on_error`).

The expression reads two relations by alias:

- ``st``: a row of ``pgtrickle.pgt_stream_tables`` (all columns NULL when the requested table
  is not in the catalog), or, for a role that may not read the catalog (pg_trickle 0.96.0 and
  later grant it to no role), the same columns from the read functions (`ST_BY_FUNCTIONS`,
  with `LOOKUP_BY_FUNCTIONS` and `VERDICT_JOIN_BY_FUNCTIONS`);
- ``req``: the request, with columns ``max_staleness`` (float8 seconds since the last refresh,
  NULL for no limit), ``min_data_timestamp`` (timestamptz the table must be current as of,
  NULL for no such rule) and ``within_schedule`` (boolean: also stale when the last refresh is
  older than the table's own duration schedule, as pg_trickle's ``stale`` column says) and
  ``require_sla`` (boolean: also wait until pg_trickle's freshness SLA state is ``MEETING``).

`VERDICT_JOIN` adds ``seen`` (``seen.refreshed_at``: the last completed refresh, read once per
row) and ``sla`` (``sla.status``: the table's freshness SLA state) before ``verdict``; `COLUMNS`
reads all three.

Columns that only newer servers have (``last_error_code``, ``refresh_reason``) are read as
``to_jsonb(st) ->> 'name'``: NULL where the column does not exist, so one expression serves
0.67.0 and 0.108.3, and only on the branches of failing tables, which are few.

The decisions behind the rules (docs/health.md, "What healthy means", keeps them for users):

- Errors are judged by ``status`` and ``consecutive_errors``, never by ``last_error_message``
  alone. The message is written only with ``status = 'ERROR'`` (pg_trickle src/catalog.rs,
  set_error_state), and every way back to ACTIVE clears it with the error count: a completed
  refresh (src/catalog.rs, update_after_refresh, update_after_no_data_refresh,
  store_frontier_and_complete_refresh), resume (src/api/alter.rs, resume_stream_table_impl)
  and any alter of an ERROR table (alter_stream_table_impl, the ERR-1c block). A message next
  to an ACTIVE status and zero errors is therefore a stale leftover (a catalog written by hand
  or by another version), never a live error; upstream's own dbt test ignores it too.
- Freshness is judged on the last completed refresh (``seen.refreshed_at``): the later of
  ``last_refresh_at`` and the newest COMPLETED row of ``pgt_refresh_history``, because some
  completed refreshes write no catalog timestamp (TopK, fused; see `_refreshed_at`).
- A blown fuse is a failure, whatever the status says. Blowing it suspends the table
  (pg_trickle src/catalog.rs, blow_fuse), but `resume_stream_table` sets ACTIVE and leaves the
  fuse blown (src/api/alter.rs, resume_stream_table_impl), and the scheduler refreshes no table
  with a blown fuse (src/scheduler/mod.rs, the fuse check): only `reset_fuse` re-arms it.
- SUSPENDED has four causes since pg_trickle 0.91.0, told apart by what the server records:
  a blown fuse (``fuse_state``), destructive DDL on a source (``refresh_reason`` starting with
  ``SOURCE_``, e.g. SOURCE_DESTRUCTIVE_SCHEMA; src/hooks.rs, repaired by
  ``reinitialize_stream_table``), a deliberate pause (``pause_stream_table`` marks the table
  for reinitialization, src/api/alter.rs pause_stream_table_impl: ``needs_reinit`` with
  ``refresh_reason`` SCHEMA_CHANGED, and no error recorded) and repeated refresh errors
  (anything else). A pause is not a failure: its verdict is ``paused``, which the sensor
  waits on unless asked to fail (``fail_on_paused``). 0.67.0 records no reason, so there every
  SUSPENDED table fails as before.
- The freshness SLA state (pg_trickle 0.90.0, ``pgtrickle.freshness()``: MEETING, AT_RISK,
  BREACHING, INFEASIBLE, INSUFFICIENT_DATA, EVIDENCE_UNAVAILABLE; NOT_APPLICABLE without an
  interval target) is read only for tables with a freshness deadline, and only by the
  variant of the query for servers that have the function (`VERDICT_JOIN_FRESHNESS`; the
  sensor, trigger and UI pick it by capability; dbt's test uses `VERDICT_JOIN`).
- IMMEDIATE tables are never stale and always current: they are maintained inside the writing
  transaction (src/ivm.rs), the scheduler never refreshes them (src/scheduler/mod.rs,
  check_schedule), and their ``last_refresh_at`` moves only when a write changed them, so the
  time since it says nothing about their freshness.

Importing this module is cheap (no psycopg, no Airflow).
"""

from __future__ import annotations

import enum
import inspect
import re
from dataclasses import dataclass

from airflow_provider_pgtrickle.vocabulary._jinja import render_macro


class Verdict(str, enum.Enum):
    """The states a rule can give (the SQL expression returns their values)."""

    HEALTHY = "healthy"
    WAITING = "waiting"
    FAILED = "failed"
    MISSING = "missing"
    PAUSED = "paused"  # SUSPENDED on purpose (pause_stream_table), not by a failure


# The statuses in which pg_trickle refreshes nothing until someone acts (resume or alter): the
# one list every part of the project reads as "failed" (`StreamTableStatus.is_failed`, the
# health rules, the dbt operations through the generated macro, the UI through its API).
FAILED_STATUSES: tuple[str, ...] = ("ERROR", "SUSPENDED")


@dataclass(frozen=True)
class Rule:
    """When ``when`` (SQL over ``st`` and ``req``) holds, the table is ``state`` because
    ``reason``: text in which ``{field}`` stands for the SQL expression `FIELDS` names.
    ``doc`` says when in words and ``example`` shows the reason, for docs/health.md."""

    state: Verdict
    when: str
    reason: str
    doc: str
    example: str


# The last error: auto-suspension after retryable failures records no last_error_message (only
# the refresh history does), so fall back to the newest failure since the last successful
# refresh. Only the rules for failed or failing tables read it, and SQL evaluates a CASE branch
# only when it is taken, so healthy tables never pay for the history probe (one index probe by
# pgt_id).
# Where the history rules read refresh history rows ``h`` of the table ``st``: the catalog
# table by its pgt_id (0.67.0), or `get_refresh_history` by the table's name (0.96.0 and
# later, where the catalog is not granted; it returns the newest rows first, `HISTORY_ROWS` of
# them, so a completed refresh or failure older than that many refreshes is not seen there).
HISTORY_ROWS = 20
_CATALOG_HISTORY = "pgtrickle.pgt_refresh_history AS h WHERE h.pgt_id = st.pgt_id AND"
_FUNCTION_HISTORY = (
    "pgtrickle.get_refresh_history(name => st.pgt_schema || '.' || st.pgt_name,"
    f" max_rows => {HISTORY_ROWS}) AS h WHERE"
)


def _last_error(history: str) -> str:
    # The last error: auto-suspension after retryable failures records no
    # last_error_message (only the refresh history does), so fall back to the newest failure
    # since the last successful refresh. Only the rules for failed or failing tables read it,
    # and SQL evaluates a CASE branch only when it is taken, so healthy tables never pay for
    # the history probe (one index probe by pgt_id, or one history call).
    return (
        f"COALESCE(st.last_error_message, (SELECT h.error_message FROM {history}"
        " h.status = 'FAILED' AND h.start_time >= COALESCE(st.last_refresh_at, '-infinity')"
        " ORDER BY h.refresh_id DESC LIMIT 1))"
    )


def _refreshed_at(history: str) -> str:
    # When the table last completed a refresh (`seen.refreshed_at`, computed once per row in
    # the verdict join). `last_refresh_at` alone misses refreshes: a manual TopK refresh
    # writes no catalog timestamp (pg_trickle src/api/refresh_ops.rs, execute_manual_refresh:
    # the TopK path, src/refresh/merge/insert.rs, execute_topk_refresh), nor does the
    # scheduler's NO_DATA action on a TopK table (src/scheduler/mod.rs,
    # execute_scheduled_refresh), and the fused path writes only the frontier
    # (try_fused_chain_refresh). Every one of them records a COMPLETED row in
    # pgt_refresh_history whose start_time is the refresh transaction's start (RefreshRecord
    # insert with now()). Only rows newer than last_refresh_at are read, newest first on the
    # install script's idx_hist_pgt_start (pgt_id, start_time): usually one index probe.
    return (
        f"GREATEST(st.last_refresh_at, (SELECT h.start_time FROM {history}"
        " h.status = 'COMPLETED' AND h.start_time > COALESCE(st.last_refresh_at, '-infinity')"
        " ORDER BY h.start_time DESC LIMIT 1))"
    )


LAST_ERROR = _last_error(_CATALOG_HISTORY)
LAST_ERROR_BY_FUNCTIONS = _last_error(_FUNCTION_HISTORY)
_SINCE_REFRESH = "EXTRACT(EPOCH FROM now() - seen.refreshed_at)"
# pg_trickle's error code of the last failure (0.85.0+; NULL on 0.67.0).
ERROR_CODE = "(to_jsonb(st) ->> 'last_error_code')"
_REFRESH_REASON = "(to_jsonb(st) ->> 'refresh_reason')"
# The freshness SLA state of one row (`sla.status`, computed once per row in VERDICT_JOIN):
# NULL for a missing table, NOT_APPLICABLE without a deadline, else what freshness() says.
# Only servers that have freshness() (0.90.0+) get the query that calls it
# (`VERDICT_JOIN_FRESHNESS`); elsewhere the state of a table with a deadline is NULL
# (unknown). The subquery runs only on the branch of tables with a deadline.
_SLA_KNOWN = (
    "CASE WHEN st.pgt_name IS NULL THEN NULL"
    " WHEN (to_jsonb(st) ->> 'freshness_deadline_ms') IS NULL THEN 'NOT_APPLICABLE'"
)
_SLA = _SLA_KNOWN + " END"
_SLA_FRESHNESS = (
    _SLA_KNOWN + " ELSE COALESCE((SELECT f.status FROM pgtrickle.freshness() AS f"
    " WHERE f.stream_table = st.pgt_schema || '.' || st.pgt_name LIMIT 1), 'NOT_APPLICABLE') END"
)
# Times in words: UTC, ISO 8601, whatever the session's TimeZone and DateStyle.
_ISO = '\'YYYY-MM-DD"T"HH24:MI:SS.US"Z"\''
_CURRENT_AS_OF = "GREATEST(st.data_timestamp, seen.refreshed_at)"


def _fields(last_error: str) -> dict[str, str]:
    return {
        "status": "st.status",
        "blow_reason": "COALESCE(st.blow_reason, 'no reason recorded')",
        "last_error": f"COALESCE({last_error}, 'no error message recorded')",
        "last_error_suffix": f"COALESCE('; last: ' || {last_error}, '')",
        "consecutive_errors": "st.consecutive_errors::text",
        "error_code_suffix": f"COALESCE(' [' || {ERROR_CODE} || ']', '')",
        "refresh_reason": f"COALESCE({_REFRESH_REASON}, 'no reason code')",
        "refresh_reason_detail": (
            "COALESCE(to_jsonb(st) ->> 'refresh_reason_detail', 'no detail recorded')"
        ),
        "sla": "COALESCE(sla.status, 'unknown')",
        "age": f"COALESCE(round({_SINCE_REFRESH})::bigint::text || 's ago', 'never')",
        "max_staleness": "req.max_staleness::text",
        "schedule": "st.schedule",
        "current_as_of": (
            f"COALESCE(to_char({_CURRENT_AS_OF} AT TIME ZONE 'UTC', {_ISO}), 'never')"
        ),
        "min_data_timestamp": f"to_char(req.min_data_timestamp AT TIME ZONE 'UTC', {_ISO})",
    }


# SQL expressions the reasons may name. None becomes the text given after the expression.
FIELDS: dict[str, str] = _fields(LAST_ERROR)

_SCHEDULED = "st.refresh_mode <> 'IMMEDIATE'"

RULES: tuple[Rule, ...] = (
    Rule(
        Verdict.MISSING,
        # pgt_name is NOT NULL in the catalog and in every read function's rows.
        "st.pgt_name IS NULL",
        "is not in the pg_trickle catalog",
        doc="the name is not in the pg_trickle catalog",
        example="`is not in the pg_trickle catalog`",
    ),
    Rule(
        Verdict.FAILED,
        "st.fuse_state = 'blown'",
        "has a blown fuse ({blow_reason}): refreshes are held until pgtrickle.reset_fuse",
        doc="the fuse is blown (whatever the status: a resumed table keeps a blown fuse, and"
        " the scheduler refreshes no table with one)",
        example="`has a blown fuse (<blow reason>): refreshes are held until pgtrickle.reset_fuse`",
    ),
    Rule(
        Verdict.FAILED,
        # No LIKE: the expression is also run with bound parameters, where % is special.
        f"st.status = 'SUSPENDED' AND left({_REFRESH_REASON}, 7) = 'SOURCE_'",
        "is SUSPENDED by destructive DDL on a source ({refresh_reason}: {refresh_reason_detail}):"
        " repair it with pgtrickle.reinitialize_stream_table",
        doc="`SUSPENDED` with a `SOURCE_` reason code: destructive DDL on a source"
        " (pg_trickle 0.91.0+)",
        example="`is SUSPENDED by destructive DDL on a source (SOURCE_DESTRUCTIVE_SCHEMA:"
        " <detail>): repair it with pgtrickle.reinitialize_stream_table`",
    ),
    Rule(
        Verdict.PAUSED,
        "st.status = 'SUSPENDED' AND st.consecutive_errors = 0 AND st.last_error_message IS NULL"
        f" AND (to_jsonb(st) ->> 'needs_reinit')::boolean AND {_REFRESH_REASON} = 'SCHEMA_CHANGED'",
        "is paused (SUSPENDED by pgtrickle.pause_stream_table, not by a failure): it refreshes"
        " again after pgtrickle.resume_stream_table",
        doc="`SUSPENDED` by `pause_stream_table` (the reinitialize mark it writes, no error;"
        " pg_trickle 0.79.0+); the sensor waits, or fails with `fail_on_paused=True`",
        example="`is paused (SUSPENDED by pgtrickle.pause_stream_table, not by a failure): it"
        " refreshes again after pgtrickle.resume_stream_table`",
    ),
    Rule(
        Verdict.FAILED,
        "st.status IN (" + ", ".join(f"'{status}'" for status in FAILED_STATUSES) + ")",
        "is {status}{error_code_suffix}: {last_error}",
        doc="status is "
        + " or ".join(f"`{status}`" for status in FAILED_STATUSES)
        + " (otherwise: after refresh errors)",
        example="`is SUSPENDED [LOCK_TIMEOUT]: <last error>` (the error code where the server"
        " records one; the last failed refresh's message when pg_trickle recorded none on the"
        " table; else `no error message recorded`)",
    ),
    Rule(
        Verdict.WAITING,
        "NOT st.is_populated OR st.status = 'INITIALIZING'",
        "is not populated yet",
        doc="not populated, or `INITIALIZING`",
        example="`is not populated yet`",
    ),
    Rule(
        Verdict.WAITING,
        "st.consecutive_errors > 0",
        "has {consecutive_errors} consecutive refresh error(s){error_code_suffix}"
        "{last_error_suffix}",
        doc="`consecutive_errors > 0`",
        example="`has 2 consecutive refresh error(s) [DEADLOCK]; last: <last error>`",
    ),
    Rule(
        Verdict.WAITING,
        f"{_SCHEDULED} AND req.max_staleness IS NOT NULL"
        f" AND (seen.refreshed_at IS NULL OR {_SINCE_REFRESH} > req.max_staleness)",
        "is stale: last refreshed {age}, max_staleness is {max_staleness}s",
        doc="a staleness limit is set and the last refresh is older than it (or there was"
        " none); not for IMMEDIATE tables",
        example="`is stale: last refreshed 75s ago, max_staleness is 60s`",
    ),
    Rule(
        Verdict.WAITING,
        # pg_trickle's own `stale` (sql/archive/pg_trickle--0.67.0.sql, pg_stat_stream_tables):
        # duration schedules only, cron schedules are never stale.
        f"{_SCHEDULED} AND req.within_schedule AND seen.refreshed_at IS NOT NULL"
        " AND st.schedule !~ '[\\s@]'"
        f" AND {_SINCE_REFRESH} > pgtrickle.parse_duration_seconds(st.schedule)",
        "is stale: last refreshed {age}, longer than its schedule {schedule}",
        doc="asked to (`warn_seconds` in the dbt test, the UI page), and the last refresh is"
        " older than the table's own duration schedule (pg_trickle's `stale`); not for"
        " IMMEDIATE tables",
        example="`is stale: last refreshed 310s ago, longer than its schedule 1m`",
    ),
    Rule(
        Verdict.WAITING,
        # _CURRENT_AS_OF: a refresh that found nothing to change keeps
        # data_timestamp; some refreshes move neither timestamp (docs/pg_trickle-contract.md).
        f"{_SCHEDULED} AND req.min_data_timestamp IS NOT NULL"
        f" AND NOT COALESCE({_CURRENT_AS_OF} >= req.min_data_timestamp, false)",
        "was last refreshed {current_as_of}, before the data interval end {min_data_timestamp}",
        doc="a data interval end is set (the sensor's `require_current_interval`) and"
        " `max(data_timestamp, last_refresh_at)` is before it; not for IMMEDIATE tables",
        example="`was last refreshed <time>, before the data interval end <time>` (UTC, ISO 8601)",
    ),
    Rule(
        Verdict.FAILED,
        "req.require_sla AND sla.status = 'NOT_APPLICABLE'",
        "has no interval target_freshness, so no freshness SLA state: set one, or stop"
        " requiring MEETING",
        doc="MEETING is required (the sensor's `require_sla_meeting`) and the table has no"
        " interval `target_freshness`",
        example="`has no interval target_freshness, so no freshness SLA state: set one, or stop"
        " requiring MEETING`",
    ),
    Rule(
        Verdict.WAITING,
        "req.require_sla AND sla.status IS DISTINCT FROM 'MEETING'",
        "has freshness SLA state {sla}, not MEETING",
        doc="MEETING is required and `pgtrickle.freshness()` reports another state (AT_RISK,"
        " BREACHING, INFEASIBLE, INSUFFICIENT_DATA, EVIDENCE_UNAVAILABLE)",
        example="`has freshness SLA state BREACHING, not MEETING`",
    ),
    Rule(
        Verdict.HEALTHY,
        "true",
        "is healthy",
        doc="otherwise",
        example="`is healthy`",
    ),
)


def rules_markdown() -> str:
    """The rules as the Markdown table of docs/health.md (between its GENERATED markers)."""
    lines = ["| # | When | State | Reason |", "|---|---|---|---|"]
    for number, rule in enumerate(RULES, start=1):
        lines.append(f"| {number} | {rule.doc} | {rule.state.value} | {rule.example} |")
    return "\n".join(lines) + "\n"


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _reason_sql(template: str, fields: dict[str, str]) -> str:
    parts: list[str] = []
    for i, piece in enumerate(re.split(r"\{(\w+)\}", template)):
        if i % 2:
            parts.append(f"({fields[piece]})")
        elif piece:
            parts.append(_quote(piece))
    return " || ".join(parts)


def _case(rules: tuple[Rule, ...], fields: dict[str, str]) -> str:
    branches = " ".join(
        f"WHEN {rule.when} THEN ARRAY[{_quote(rule.state.value)},"
        f" {_reason_sql(rule.reason, fields)}]"
        for rule in rules[:-1]
    )
    last = rules[-1]
    return (
        f"CASE {branches} ELSE ARRAY[{_quote(last.state.value)},"
        f" {_reason_sql(last.reason, fields)}] END"
    )


def _verdict_join(history: str, *, freshness: bool) -> str:
    """The joins that judge each (st, req) row; ``freshness``: the server has freshness()."""
    return (
        f" CROSS JOIN LATERAL (SELECT {_refreshed_at(history)} AS refreshed_at OFFSET 0) AS seen"
        f" CROSS JOIN LATERAL (SELECT {_SLA_FRESHNESS if freshness else _SLA} AS status"
        " OFFSET 0) AS sla"
        " CROSS JOIN LATERAL (SELECT"
        f" {_case(RULES, _fields(_last_error(history)))} AS pair OFFSET 0) AS verdict"
    )


# The verdict of every (st, req) row: `verdict.pair[1]` is the state, `verdict.pair[2]` the
# reason. Lateral subqueries (OFFSET 0 keeps the planner from inlining them into every use),
# so the last refresh is looked up, and the CASE runs, once per row.
VERDICT_JOIN = _verdict_join(_CATALOG_HISTORY, freshness=False)
VERDICT_JOIN_FRESHNESS = _verdict_join(_CATALOG_HISTORY, freshness=True)
# The same rules over the read functions' `st` (`ST_BY_FUNCTIONS`; 0.104+, so freshness()).
VERDICT_JOIN_BY_FUNCTIONS = _verdict_join(_FUNCTION_HISTORY, freshness=True)

# The columns every health query returns, in this order (`_health.COLUMN_NAMES` reads them).
COLUMNS = (
    "SELECT COALESCE(st.pgt_schema, req.pgt_schema) AS pgt_schema,"
    " COALESCE(st.pgt_name, req.pgt_name) AS pgt_name,"
    " st.status, st.is_populated, st.consecutive_errors,"
    f" {_SINCE_REFRESH}::float8 AS staleness_seconds,"
    # `last_refresh_at` is the last completed refresh (`seen`), not the catalog column alone.
    " st.data_timestamp, st.last_error_message, seen.refreshed_at AS last_refresh_at,"
    " st.refresh_mode,"
    " st.schedule, verdict.pair[1] AS health, verdict.pair[2] AS reason,"
    # Where the server records them: the freshness SLA state and the last error's code
    # (read from the row only for failing tables).
    " sla.status AS sla_status,"
    " CASE WHEN st.consecutive_errors > 0 OR st.status IN ('ERROR', 'SUSPENDED')"
    f" THEN {ERROR_CODE} END AS error_code"
)

# One requested table (``req.pgt_schema``, ``req.pgt_name``) looked up on the catalog's
# unique (pgt_schema, pgt_name) index; a missing table keeps its request row with NULLs. The
# LIMIT, harmless on a unique key, keeps the planner from flattening the lookup into a join,
# which pins one index probe per name however it judges a small catalog.
LOOKUP = (
    " LEFT JOIN LATERAL (SELECT * FROM pgtrickle.pgt_stream_tables AS one"
    " WHERE one.pgt_schema = req.pgt_schema AND one.pgt_name = req.pgt_name LIMIT 1) AS st"
    " ON true"
)


# ``st`` for a role that may not read the catalog (pg_trickle 0.96.0 and later): the columns
# the rules and the UI read, from the read functions upstream grants to PUBLIC
# (sql/archive/pg_trickle--0.108.3.sql; src/monitor/mod.rs, st_refresh_stats;
# src/api/diagnostics.rs, pgt_status and fuse_status), matched by name, every column read by
# its name. Each function runs once per query (the CTE is materialized, so a nested loop
# over many requested names rescans its rows, not the function); they return every stream
# table, so this costs one pass over the catalog per query, not one call per table.
# `last_error_at` has no read function and is NULL here.
#
# Why a table is suspended or failing (``refresh_reason``, ``refresh_reason_detail``,
# ``needs_reinit``, ``last_error_code``; the pause and source-DDL rules and the error code)
# is in no read function's result (src/api/diagnostics.rs, pgt_status; src/monitor/mod.rs,
# st_refresh_stats): those four columns come from the catalog row itself, for tables that
# are not ACTIVE or have errors only. That is the reader path's one direct catalog read
# (`REASONS`, its alias named so tests can tell it from any other); it needs no grant beyond
# what the read functions need, since they read the same table as the caller.
REASONS = "pgtrickle.pgt_stream_tables AS reasons"
ST_BY_FUNCTIONS = (
    "(WITH st AS MATERIALIZED (SELECT s.pgt_schema, s.pgt_name, s.status, s.refresh_mode,"
    " s.is_populated, s.consecutive_errors, s.schedule, s.last_refresh_at,"
    " s.last_error_message, s.stale, p.data_timestamp, f.fuse_mode, f.fuse_state,"
    " f.blow_reason, NULL::timestamptz AS last_error_at,"
    # The interval target, where freshness() reports one (0.90.0+): the SLA rules read it.
    " (EXTRACT(EPOCH FROM fr.target) * 1000)::bigint AS freshness_deadline_ms,"
    " reasons.refresh_reason, reasons.refresh_reason_detail, reasons.needs_reinit,"
    " reasons.last_error_code"
    " FROM pgtrickle.st_refresh_stats() AS s"
    " LEFT JOIN pgtrickle.pgt_status() AS p ON p.name = s.pgt_schema || '.' || s.pgt_name"
    " LEFT JOIN pgtrickle.fuse_status() AS f"
    " ON f.stream_table = s.pgt_schema || '.' || s.pgt_name"
    " LEFT JOIN pgtrickle.freshness() AS fr"
    " ON fr.stream_table = s.pgt_schema || '.' || s.pgt_name"
    f" LEFT JOIN {REASONS} ON reasons.pgt_schema = s.pgt_schema"
    " AND reasons.pgt_name = s.pgt_name"
    " AND (s.status <> 'ACTIVE' OR s.consecutive_errors > 0)) SELECT * FROM st)"
)
# `LOOKUP` over the read functions: every requested name joined to their rows.
LOOKUP_BY_FUNCTIONS = (
    f" LEFT JOIN {ST_BY_FUNCTIONS} AS st"
    " ON st.pgt_schema = req.pgt_schema AND st.pgt_name = req.pgt_name"
)


# Whether the stream table ``st`` (its pgt_schema, pgt_name) needs recreation after an
# upgrade to pg_trickle 0.87.16 or later. Row identity V2 makes `__pgt_row_id` BYTEA NOT NULL,
# and the upgrade does not convert a V1 table (BIGINT): pg_trickle rejects it until it is
# dropped and created again. Upstream's own recreation preflight counts storage without
# `__pgt_row_id BYTEA NOT NULL` (sql/archive/pg_trickle--0.108.3.sql,
# row_identity_v2_recreation_preflight, STORAGE_SCHEMA); the catalog's row_identity_version
# says the same but no read function returns it. pg_attribute is readable by every role and
# is looked up by the table's names, so no privilege on its schema is needed.
NEEDS_RECREATION = (
    "EXISTS (SELECT FROM pg_catalog.pg_attribute AS a"
    " JOIN pg_catalog.pg_class AS c ON c.oid = a.attrelid"
    " JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace"
    " WHERE n.nspname = st.pgt_schema AND c.relname = st.pgt_name"
    " AND a.attname = '__pgt_row_id' AND NOT a.attisdropped"
    " AND (a.atttypid <> 'pg_catalog.bytea'::pg_catalog.regtype OR NOT a.attnotnull))"
)


def jinja_macros() -> dict[str, str]:
    path, content = render_macro(
        "pgtrickle_health_vocabulary",
        inspect.cleandoc(
            """
            The health rules (airflow_provider_pgtrickle/vocabulary/health.py, jinja_macros)
            as the SQL the Airflow health sensor runs: a dict of columns, lookup (joins `req`
            to `st`), verdict (health and reason from `st` and `req`) and states. Build `req`
            from literals (pgtrickle_sql_value), never pasted text. lookup and verdict read
            pg_trickle's catalog tables (0.67.0); `by_functions` holds the same keys (plus
            `st`, the relation of every stream table) reading only the functions pg_trickle
            0.96.0 and later grant to PUBLIC, for a role without SELECT on the catalog.
            """
        ),
        {
            "columns": COLUMNS,
            "lookup": LOOKUP,
            "verdict": VERDICT_JOIN,
            "by_functions": {
                "columns": COLUMNS,
                "lookup": LOOKUP_BY_FUNCTIONS,
                "verdict": VERDICT_JOIN_BY_FUNCTIONS,
                "st": ST_BY_FUNCTIONS,
            },
            "states": [state.value for state in Verdict],
            "failed_statuses": list(FAILED_STATUSES),
        },
    )
    return {path: content}
