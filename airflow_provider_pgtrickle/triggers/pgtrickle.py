"""Triggers: the deferred health sensor's wait, and an asset watcher for stream table refreshes.

Both wait push-first and share their database work. In one triggerer process, every trigger
on the same Airflow connection id joins one *shared stream* (Airflow 3.3's
`BaseEventTrigger.shared_stream_key`): one listener connection that LISTENs on pg_trickle's
``pg_trickle_alert``, ``pg_trickle_refresh`` and ``pgtrickle_alert`` channels and runs one
health query for all waiting triggers, at once when a notification names a table someone
waits for, when a trigger joins, after a reconnect, and otherwise once per poll interval (the
fallback for missed notifications and for stream tables in pooler-compatibility mode, which
send none). Each trigger judges its own tables from that query's rows (`filter_shared_stream`).

A trigger run on its own (`run()`, as a triggerer without shared streams would call it) drives
the same stream for itself alone: the same behaviour with one connection per trigger.

Health trigger events (exactly one):
``{"status": "success" | "error" | "timeout", "message": str, "tables": [names],
"report": {...}}``. The trigger carries its own absolute deadline, so the sensor defers
without ``timeout=``.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import time
from collections.abc import AsyncGenerator, AsyncIterator, Hashable, Iterator
from contextlib import aclosing
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from airflow.triggers.base import BaseEventTrigger, TriggerEvent

from airflow_provider_pgtrickle.capabilities import ReadPath
from airflow_provider_pgtrickle.types import REPORT_LIMIT, HealthReport, HealthRow, HealthState

if TYPE_CHECKING:
    from airflow_provider_pgtrickle._health import Judged, Rules

# Channels pg_trickle sends on (docs/pg_trickle-contract.md, section 6):
# - `pg_trickle_alert`: JSON with `event`, `pgt_schema`, `pgt_name` (src/monitor/alert.rs,
#   emit_alert);
# - `pg_trickle_refresh`: JSON with `stream_table` (the bare name) and `schema`, plus `rows`
#   when the scheduler sends it (src/api/refresh_ops.rs, execute_manual_full_refresh;
#   src/refresh/merge/mod.rs, execute_full_refresh);
# - `pgtrickle_alert` (no underscore): JSON with `event` and `stream_table` as
#   `<schema>.<name>`; a blown fuse (src/scheduler/mod.rs, evaluate_fuse) suspends the table,
#   which changes its verdict.
# From 0.108.3 every `pg_trickle_alert` payload also carries `database_oid`, and an oversized
# one stays valid JSON (`truncated`: src/monitor/alert.rs, reduce_alert_payload); 0.67.0 cut
# an oversized payload mid-text (build_alert_payload), losing the table's name. The other
# channels pg_trickle uses (`pgtrickle_wake`, `pgtrickle_watermark`, `pgtrickle_source_gate`,
# `pg_trickle_cdc_transition`) announce nothing that changes a verdict
# (docs/pg_trickle-contract.md, section 6).
CHANNELS = ("pg_trickle_alert", "pg_trickle_refresh", "pgtrickle_alert")

# The listener waits in slices this long so a newly joined trigger is checked promptly.
_SLICE_S = 0.25
# After the first notification, collect the rest of a burst this long before querying once.
_BURST_S = 0.02
# Reconnect attempts after a dropped connection are spaced at least this far apart.
_MIN_RETRY_S = 1.0


def _parse_time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _one_line(text: str) -> str:
    return " ".join(part.strip() for part in text.strip().splitlines() if part.strip())


# -- error texts ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Failure:
    """A failure of the shared connection: `permanent` ends the waits, else they retry."""

    message: str
    permanent: bool


# Advice for connection failures, most specific first, told apart by the server's (or
# libpq's) text: psycopg reports no SQLSTATE for failures while connecting. Whether a failure
# ends the wait is not decided here but by `_connection_failures`, the rule the poking sensor
# follows too.
_CONNECT_ADVICE: tuple[tuple[tuple[str, ...], str], ...] = (
    (("password authentication failed",), "fix the login or password of the connection"),
    (("no pg_hba.conf entry",), "allow this client in the server's pg_hba.conf or fix sslmode"),
    (("database", "does not exist"), "fix the database (the connection's schema or `dbname`)"),
    (("role", "does not exist"), "fix the connection's login"),
    (("permission denied",), "grant the login CONNECT on the database"),
    (("too many connections for role",), "raise the role's connection limit"),
    (("too many clients already",), "raise the server's max_connections or use fewer"),
    (("sslmode",), "fix `sslmode` in the connection's extra"),
    (("invalid connection option",), "remove that key from the connection's extra"),
    (("invalid integer value",), "fix the connection's port"),
    (("could not translate host name",), "fix the connection's host"),
    (("isn't defined",), "define the connection (Admin > Connections or AIRFLOW_CONN_<ID>)"),
)


def _connect_failure(conn_id: str, error: BaseException) -> _Failure:
    from airflow_provider_pgtrickle._connection_failures import (
        ConnectionFailureKind,
        connection_failure,
    )

    reason = _one_line(str(error)) or type(error).__name__
    lowered = reason.lower()
    advice = next(
        (advice for markers, advice in _CONNECT_ADVICE if all(m in lowered for m in markers)),
        None,
    )
    failure = connection_failure(error)
    # Not a driver error at all (an undefined connection, a bad extra): no retry cures it.
    if failure is None or failure.kind is ConnectionFailureKind.PERMANENT:
        fix = advice or "fix the connection's settings"
        return _Failure(f"Cannot connect with `{conn_id}`: {reason}; {fix}.", permanent=True)
    hint = f" ({advice})" if advice else ""
    return _Failure(f"Cannot reach the database of `{conn_id}`: {reason}{hint}", permanent=False)


# Query failures by SQLSTATE and their advice; all are permanent (waiting will not cure them).
_QUERY_ADVICE: dict[str, str] = {
    "42501": "grant the login USAGE on schema `pgtrickle` and SELECT on its catalog",
    "3F000": "install pg_trickle in this database: CREATE EXTENSION pg_trickle",
    "42P01": "install or upgrade pg_trickle in this database (its catalog is missing)",
    "42883": "install or upgrade pg_trickle in this database (a function is missing)",
}


def _query_failure(conn_id: str, error: Any) -> _Failure:
    diag = getattr(error, "diag", None)
    reason = _one_line((getattr(diag, "message_primary", None) or "") or str(error))
    sqlstate = getattr(error, "sqlstate", None) or ""
    advice = _QUERY_ADVICE.get(sqlstate, "fix the cause above; the health query is read-only")
    return _Failure(
        f"Health query on `{conn_id}` failed: {reason} (SQLSTATE {sqlstate or 'none'}); {advice}.",
        permanent=True,
    )


# -- the shared stream ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Selector:
    """Which stream tables a trigger reads: names, a whole schema, or (both empty) all."""

    names: tuple[str, ...] = ()
    schema: str | None = None

    def matches(self, qualified: str, schema: str) -> bool:
        if self.names:
            return qualified in self.names
        if self.schema is not None:
            return schema == self.schema
        return True

    def pick(self, rows: dict[str, HealthRow]) -> list[HealthRow]:
        if self.names:
            return [rows[name] for name in self.names if name in rows]
        return [row for name, row in sorted(rows.items()) if self.schema in (None, row.schema)]

    def pick_judged(self, judged: dict[str, Judged]) -> list[Judged]:
        """This selection's verdicts under one rule set (requested names in order)."""
        if self.names:
            return [judged[name] for name in self.names if name in judged]
        return [
            j
            for _, j in sorted(judged.items())
            if j.row is not None and self.schema in (None, j.row.schema)
        ]


@dataclass
class _Interest:
    selector: _Selector
    poll_interval: float
    deadline: datetime | None
    # Start token whose earlier source changes must be consumed (`wait_for_sources`).
    since: str | None = None
    # The health rules' parameters (None: the trigger only reads the rows, not a verdict).
    rules: Rules | None = None
    # Also read when the named tables' data last changed (`Snapshot.changed`; the watcher).
    changes: bool = False


@dataclass(frozen=True)
class Snapshot:
    """One raw event of the shared stream: the health rows of one query, or a failure.

    `covered` holds the ids of the interests the query (or failure) was for; a trigger that
    joined later waits for the next snapshot.
    """

    covered: frozenset[int]
    rows: dict[str, HealthRow]
    failure: _Failure | None = None
    # The database's verdicts: rule set -> stream table -> verdict (missing names included).
    judged: dict[Rules, dict[str, Judged]] = field(default_factory=dict)
    notified: frozenset[str] = frozenset()
    # Unconsumed source changes per (table, since) for triggers with `sources_since`.
    pending: dict[tuple[str, str], int] = field(default_factory=dict)
    # Tables the caught-up gate cannot judge, with the reason (`_caught_up.problems`).
    blocked: dict[str, str] = field(default_factory=dict)
    # When the data of tables some interest watches last changed (`CHANGED_AT`).
    changed: dict[str, datetime] = field(default_factory=dict)
    # Reports already judged from these rows, by the judging trigger's rule set: a thousand
    # sensors with the same tables and options classify once per snapshot, not a thousand times.
    reports: dict[Hashable, HealthReport] = field(default_factory=dict, compare=False)


@dataclass
class _Hub:
    """What the triggers of one shared stream want, read by the stream before each query."""

    interests: dict[int, _Interest] = field(default_factory=dict)
    joined: bool = False
    queries: int = 0
    connections: int = 0
    streams: int = 0
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def register(self, interest: _Interest) -> int:
        iid = next(self._ids)
        self.interests[iid] = interest
        self.joined = True
        return iid

    def unregister(self, iid: int) -> None:
        self.interests.pop(iid, None)

    def wants(self, qualified: str, schema: str) -> bool:
        return any(i.selector.matches(qualified, schema) for i in self.interests.values())

    def poll_interval(self) -> float:
        return min((i.poll_interval for i in self.interests.values()), default=60.0)

    def earliest_deadline(self) -> datetime | None:
        return min((i.deadline for i in self.interests.values() if i.deadline), default=None)

    def watched(self) -> set[str]:
        """Tables whose last data change some interest asks for."""
        return {name for i in self.interests.values() if i.changes for name in i.selector.names}

    def pending_pairs(self, rows: dict[str, HealthRow]) -> set[tuple[str, str]]:
        """(table, since) pairs the caught-up query must answer for these health rows."""
        return {
            (row.qualified_name, i.since)
            for i in self.interests.values()
            if i.since is not None
            for row in i.selector.pick(rows)
        }

    def queries_for(self, read_path: ReadPath = ReadPath.CATALOG) -> list[tuple[Any, list[Any]]]:
        """The fewest health queries that cover every interest: usually exactly one.

        Each (table, rule set) pair is judged once however many triggers wait for it.
        ``read_path`` is how the connection reads pg_trickle's state (`Capabilities`).
        """
        from airflow_provider_pgtrickle import _health

        wanted = {(i.selector, i.rules or _health.Rules()) for i in self.interests.values()}
        out = []
        # Named tables are always asked for by name: only that query reports a name missing
        # from the catalog (a whole-catalog query has no row for it).
        names = sorted({(name, r) for s, r in wanted for name in s.names}, key=repr)
        if names:
            out.append(_health.query_by_names(names, read_path))
        unnamed = [(s, r) for s, r in wanted if not s.names]
        if any(s.schema is None for s, _ in unnamed):
            out.append(
                _health.query_every_table(sorted({r for _, r in unnamed}, key=repr), read_path)
            )
            return out
        by_schema: dict[str, set[Rules]] = {}
        for s, r in unnamed:
            by_schema.setdefault(str(s.schema), set()).add(r)
        for schema in sorted(by_schema):
            out.append(
                _health.query_by_schema(schema, sorted(by_schema[schema], key=repr), read_path)
            )
        return out


# When each named table's data last changed: `data_timestamp`, except that a manual refresh
# of a TopK table moves no catalog timestamp (pg_trickle src/api/refresh_ops.rs,
# execute_manual_refresh; src/refresh/merge/insert.rs, execute_topk_refresh): for TopK tables
# the newest completed refresh after it that reports changed rows (its MERGE's row count)
# counts too. Non-TopK tables cost nothing more than the catalog row.
CHANGED_AT = (
    "SELECT st.pgt_schema || '.' || st.pgt_name,"
    " GREATEST(st.data_timestamp, CASE WHEN st.topk_limit IS NOT NULL THEN (SELECT h.start_time"
    " FROM pgtrickle.pgt_refresh_history AS h WHERE h.pgt_id = st.pgt_id"
    " AND h.status = 'COMPLETED' AND h.start_time > COALESCE(st.data_timestamp, '-infinity')"
    " AND h.rows_inserted + h.rows_deleted > 0 ORDER BY h.start_time DESC LIMIT 1) END)"
    " FROM pgtrickle.pgt_stream_tables AS st"
    " WHERE st.pgt_schema || '.' || st.pgt_name = ANY(%s::text[])"
)

# `CHANGED_AT` where the role may not read the catalog (pg_trickle 0.96.0 and later):
# `data_timestamp` from `pgt_status()`, by name. No read function says which tables are TopK,
# so the history rule above applies to every watched table: its newest completed refresh
# after data_timestamp that changed rows (`get_refresh_history`, newest 20 rows). A refresh
# that changes rows of a table that is not TopK also moves its data_timestamp, so for those
# the answer is data_timestamp. One history call per watched table per poll.
CHANGED_AT_BY_FUNCTIONS = (
    "SELECT p.name, GREATEST(p.data_timestamp, (SELECT max(h.start_time)"
    " FROM pgtrickle.get_refresh_history(name => p.name, max_rows => 20) AS h"
    " WHERE h.status = 'COMPLETED' AND h.start_time > COALESCE(p.data_timestamp, '-infinity')"
    " AND h.rows_inserted + h.rows_deleted > 0))"
    " FROM pgtrickle.pgt_status() AS p WHERE p.name = ANY(%s::text[])"
)

# One hub per (shared stream key, event loop): the triggerer runs one loop, tests run several.
_HUBS: dict[tuple[Hashable, int], _Hub] = {}


def hub_for(key: Hashable) -> _Hub:
    """The hub of a shared stream key in the running event loop (created on first use)."""
    slot = (key, id(asyncio.get_running_loop()))
    hub = _HUBS.get(slot)
    if hub is None:
        hub = _HUBS[slot] = _Hub()
    return hub


def _release(key: Hashable) -> None:
    slot = (key, id(asyncio.get_running_loop()))
    hub = _HUBS.get(slot)
    if hub is not None and not hub.interests and hub.streams == 0:
        del _HUBS[slot]


def _notified_table(
    channel: str, payload: str, database_oid: int | None = None
) -> tuple[str, str] | None:
    """(qualified name, schema) a pg_trickle notification is about, or None.

    A payload whose ``database_oid`` (0.108.3) is not ``database_oid`` is about a table of
    another database: None. PostgreSQL delivers a NOTIFY only within its database, so this
    matters only where notifications are relayed; a table of the same name here is not it.
    """
    try:
        data = json.loads(payload)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    sender = data.get("database_oid")
    if database_oid is not None and isinstance(sender, int) and sender != database_oid:
        return None
    if channel == "pg_trickle_refresh":
        schema, name = data.get("schema"), data.get("stream_table")
    elif channel == "pgtrickle_alert":
        qualified = data.get("stream_table")
        if not isinstance(qualified, str) or "." not in qualified:
            return None  # slot- or group-level events (watermark_stuck, ...)
        # pg_trickle splits a qualified name at its first dot (src/api/helpers.rs).
        schema, _, name = qualified.partition(".")
    else:
        schema, name = data.get("pgt_schema"), data.get("pgt_name")
    if not isinstance(schema, str) or not isinstance(name, str):
        return None
    return f"{schema}.{name}", schema


async def _connect(conn_id: str) -> Any:
    """An autocommit async connection built exactly like `PgTrickleHook.get_conn`'s."""
    import psycopg
    from airflow.sdk import BaseHook

    from airflow_provider_pgtrickle import _connect

    conn = await BaseHook.aget_connection(conn_id)
    extra = await conn.aextra_dejson() if hasattr(conn, "aextra_dejson") else conn.extra_dejson
    if extra.get("iam", False):
        from airflow_provider_pgtrickle.hooks.pgtrickle import PgTrickleHook

        hook = PgTrickleHook(postgres_conn_id=conn_id)
        conn.login, conn.password, conn.port = await asyncio.to_thread(hook.get_iam_token, conn)
    kwargs = _connect.from_connection(conn, extra)
    return await psycopg.AsyncConnection.connect(autocommit=True, **kwargs)


async def _database_oid(conn: Any) -> int | None:
    """The OID of the database ``conn`` is in: what 0.108.3's alerts say in `database_oid`."""
    cur = await conn.execute(
        "SELECT oid::bigint FROM pg_database WHERE datname = current_database()"
    )
    row = await cur.fetchone()
    return int(row[0]) if row else None


async def _listen(conn_id: str, key: Hashable) -> AsyncGenerator[Snapshot, None]:
    """The shared stream: LISTEN, query on push / join / reconnect / interval, yield snapshots."""
    import psycopg
    from psycopg import sql

    from airflow_provider_pgtrickle import _caught_up, _health, capabilities

    hub = hub_for(key)
    hub.streams += 1
    conn: Any = None
    read_path = capabilities.ReadPath.CATALOG
    exact_gate = True
    last_query = float("-inf")
    last_query_at = datetime.min.replace(tzinfo=timezone.utc)
    next_connect = 0.0
    pushed: set[str] = set()
    database_oid: int | None = None
    due_now = True
    try:
        while True:
            now = time.monotonic()
            if conn is None:
                # A trigger that just joined gets an attempt (and a verdict) at once.
                if now < next_connect and not hub.joined:
                    await asyncio.sleep(min(_SLICE_S, next_connect - now))
                    continue
                try:
                    conn = await _connect(conn_id)
                    hub.connections += 1
                    for channel in CHANNELS:
                        await conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel)))
                    # Probed once per connection: how this role reads pg_trickle's state.
                    found_caps = await capabilities.aprobe(conn)
                    read_path = found_caps.read_path
                    exact_gate = _caught_up.counts_buffers(found_caps)
                    database_oid = await _database_oid(conn)
                except Exception as error:  # every failure becomes an event
                    if conn is not None:
                        await conn.close()
                    conn = None
                    failure = _connect_failure(conn_id, error)
                    covered = frozenset(hub.interests)
                    hub.joined = False
                    retry = max(_MIN_RETRY_S, hub.poll_interval()) if covered else _SLICE_S
                    deadline = hub.earliest_deadline()
                    if deadline is not None:
                        # The next attempt (and its failure snapshot) also ends waits that
                        # time out before the poll interval is over.
                        left = (deadline - datetime.now(timezone.utc)).total_seconds()
                        retry = min(retry, max(0.05, left + 0.05))
                    next_connect = time.monotonic() + retry
                    yield Snapshot(covered=covered, rows={}, failure=failure)
                    continue
                # Notifications sent while disconnected are lost: query now.
                due_now = True
            deadline = hub.earliest_deadline()
            if deadline is not None and last_query_at < deadline <= datetime.now(timezone.utc):
                due_now = True
            if hub.joined:
                hub.joined = False
                due_now = True
            if time.monotonic() - last_query >= hub.poll_interval():
                due_now = True
            if due_now and hub.interests:
                due_now = False
                covered = frozenset(hub.interests)
                last_query_at = datetime.now(timezone.utc)
                rows: dict[str, HealthRow] = {}
                judged: dict[Rules, dict[str, Judged]] = {}
                pending: dict[tuple[str, str], int] = {}
                blocked: dict[str, str] = {}
                changed: dict[str, datetime] = {}
                try:
                    for query, params in hub.queries_for(read_path):
                        hub.queries += 1
                        cur = await conn.execute(query, params)
                        for one in _health.judged_rows(await cur.fetchall()):
                            judged.setdefault(one.rules, {})[one.stream_table] = one
                            if one.row is not None:
                                rows[one.stream_table] = one.row
                    watched = hub.watched()
                    if watched:
                        changed_at = (
                            CHANGED_AT_BY_FUNCTIONS
                            if read_path is capabilities.ReadPath.FUNCTIONS
                            else CHANGED_AT
                        )
                        cur = await conn.execute(changed_at, [sorted(watched)])
                        changed = {str(n): t for n, t in await cur.fetchall() if t is not None}
                    pairs = hub.pending_pairs(rows)
                    if pairs and not exact_gate:
                        query, params = _caught_up.refreshed_query(name for name, _ in pairs)
                        cur = await conn.execute(query, params)
                        found_refreshed = _caught_up.refreshed(await cur.fetchall())
                        blocked = _caught_up.refreshed_problems(found_refreshed)
                        pending = _caught_up.refreshed_pending(found_refreshed, pairs)
                    elif pairs:
                        query, params = _caught_up.buffers_query(name for name, _ in pairs)
                        cur = await conn.execute(query, params)
                        found = _caught_up.buffers(await cur.fetchall())
                        blocked = _caught_up.problems(found)
                        counting = _caught_up.count_query(found, pairs)
                        if counting is not None:
                            cur = await conn.execute(*counting)
                            pending = _caught_up.totals(await cur.fetchall())
                except psycopg.OperationalError as error:
                    await conn.close()
                    conn = None
                    next_connect = time.monotonic() + _MIN_RETRY_S
                    yield Snapshot(covered, {}, failure=_connect_failure(conn_id, error))
                    continue
                except psycopg.Error as error:
                    last_query = time.monotonic()
                    yield Snapshot(covered, {}, failure=_query_failure(conn_id, error))
                    continue
                last_query = time.monotonic()
                notified, pushed = frozenset(pushed), set()
                yield Snapshot(
                    covered,
                    rows,
                    notified=notified,
                    pending=pending,
                    judged=judged,
                    blocked=blocked,
                    changed=changed,
                )
                continue
            # Wait for a notification, at most one slice, then re-check joins and timers.
            try:
                got = wake = False
                async for note in conn.notifies(timeout=_SLICE_S, stop_after=1):
                    got = True
                    wake = _note(hub, pushed, note, database_oid) or wake
                if got:
                    async for note in conn.notifies(timeout=_BURST_S):
                        wake = _note(hub, pushed, note, database_oid) or wake
                    if wake:
                        due_now = True
            except psycopg.OperationalError as error:
                await conn.close()
                conn = None
                yield Snapshot(
                    frozenset(hub.interests), {}, failure=_connect_failure(conn_id, error)
                )
    finally:
        hub.streams -= 1
        if conn is not None and not conn.closed:
            await conn.close()
        _release(key)


def _unreadable(payload: str) -> bool:
    """Whether a payload on a pg_trickle channel is no JSON object at all.

    pg_trickle 0.67.0 cuts an alert over 7,900 bytes mid-text (src/monitor/alert.rs,
    build_alert_payload), and its keys are in byte order, so a long `refresh_failed` error
    takes the table's name with it: such an alert may concern any table.
    """
    try:
        return not isinstance(json.loads(payload), dict)
    except ValueError:
        return True


def _note(hub: _Hub, pushed: set[str], note: Any, database_oid: int | None = None) -> bool:
    """Record what a notification is about; whether it calls for a health query now."""
    table = _notified_table(note.channel, note.payload, database_oid)
    if table is not None:
        if hub.wants(*table):
            pushed.add(table[0])
            return True
        return False
    # An alert that names no table it can be read for: query for everyone rather than let a
    # failure wait for the next poll.
    return _unreadable(note.payload)


class _PgTrickleStreamTrigger(BaseEventTrigger):
    """Shared-stream plumbing common to the health trigger and the refresh watcher."""

    postgres_conn_id: str
    poll_interval: float

    def shared_stream_key(self) -> Hashable | None:
        # One listener per Airflow connection id and triggerer, whatever the trigger class.
        return ("airflow_provider_pgtrickle", self.postgres_conn_id)

    @classmethod
    async def open_shared_stream(cls, kwargs: dict[str, Any]) -> AsyncIterator[Any]:
        conn_id = kwargs["postgres_conn_id"]
        async for snapshot in _listen(conn_id, ("airflow_provider_pgtrickle", conn_id)):
            yield snapshot

    def _interest(self) -> _Interest:
        raise NotImplementedError

    def _judge(self, snapshot: Snapshot) -> TriggerEvent | None:
        raise NotImplementedError

    async def filter_shared_stream(
        self, shared_stream: AsyncIterator[Any]
    ) -> AsyncIterator[TriggerEvent]:
        async with aclosing(self._filter(shared_stream, self.shared_stream_key())) as events:
            async for event in events:
                yield event

    async def _filter(
        self, shared_stream: AsyncIterator[Any], key: Hashable
    ) -> AsyncGenerator[TriggerEvent, None]:
        await self._before_first_check()
        hub = hub_for(key)
        iid = hub.register(self._interest())
        try:
            async for snapshot in shared_stream:
                if iid not in snapshot.covered:
                    continue
                event = self._judge(snapshot)
                if event is not None:
                    yield event
                    if self._ends_after_event:
                        return
                await self._after_check()
        finally:
            hub.unregister(iid)
            _release(key)

    _ends_after_event = True

    async def _before_first_check(self) -> None:
        """Runs once before the first snapshot is judged (nothing, unless a subclass keeps
        state across restarts)."""

    async def _after_check(self) -> None:
        """Runs after each judged snapshot, once its event (if any) was handed over."""

    async def run(self) -> AsyncIterator[TriggerEvent]:
        # Without the triggerer's shared streams (Airflow < 3.3, or called directly): the
        # same stream, private to this trigger.
        key = ("airflow_provider_pgtrickle", self.postgres_conn_id, "solo", id(self))
        async with (
            aclosing(_listen(self.postgres_conn_id, key)) as stream,
            aclosing(self._filter(stream, key)) as events,
        ):
            async for event in events:
                yield event


class PgTrickleHealthTrigger(_PgTrickleStreamTrigger):
    """Wait in the triggerer until stream tables are healthy, fail, or the deadline passes.

    :param postgres_conn_id: Airflow connection of type ``postgres``.
    :param stream_tables: validated, schema-qualified names (empty: use ``schema``/all).
    :param schema: every stream table of this schema (when ``stream_tables`` is empty).
    :param max_staleness: seconds since the last refresh allowed, or ``None``.
    :param min_data_timestamp: ISO 8601 time ``data_timestamp`` must reach, or ``None``.
    :param fail_on_error: ERROR/SUSPENDED ends the wait with an ``error`` event.
    :param fail_on_paused: a paused table ends the wait with an ``error`` event.
    :param require_sla_meeting: also wait for the freshness SLA state ``MEETING``.
    :param poll_interval: seconds between fallback polls (notifications wake it sooner).
    :param deadline: ISO 8601 (UTC) time at which a ``timeout`` event is sent.
    :param sources_since: the sensor's start (`_caught_up.start_token`: WAL position and server
        time; a bare ``pg_lsn`` text is read too); healthy also needs every source change
        committed before it to be refreshed (the sensor's ``wait_for_sources``).
    """

    def __init__(
        self,
        *,
        postgres_conn_id: str,
        stream_tables: list[str],
        schema: str | None,
        max_staleness: float | None,
        min_data_timestamp: str | None,
        fail_on_error: bool,
        poll_interval: float,
        deadline: str,
        sources_since: str | None = None,
        fail_on_paused: bool = False,
        require_sla_meeting: bool = False,
    ) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.postgres_conn_id = postgres_conn_id
        self.stream_tables = list(stream_tables)
        self.schema = schema
        self.max_staleness = max_staleness
        self.min_data_timestamp = min_data_timestamp
        self.fail_on_error = fail_on_error
        self.fail_on_paused = fail_on_paused
        self.require_sla_meeting = require_sla_meeting
        self.poll_interval = poll_interval
        self.deadline = deadline
        self.sources_since = sources_since
        self._last_failure: str | None = None
        self._last_report = HealthReport(tables=())
        self._last_logged: str | None = None

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "postgres_conn_id": self.postgres_conn_id,
                "stream_tables": list(self.stream_tables),
                "schema": self.schema,
                "max_staleness": self.max_staleness,
                "min_data_timestamp": self.min_data_timestamp,
                "fail_on_error": self.fail_on_error,
                "poll_interval": self.poll_interval,
                "deadline": self.deadline,
                "sources_since": self.sources_since,
                "fail_on_paused": self.fail_on_paused,
                "require_sla_meeting": self.require_sla_meeting,
            },
        )

    def _rules(self) -> Rules:
        from airflow_provider_pgtrickle._health import Rules

        return Rules(
            self.max_staleness,
            _parse_time(self.min_data_timestamp),
            require_sla=self.require_sla_meeting,
        )

    def _interest(self) -> _Interest:
        return _Interest(
            selector=_Selector(tuple(self.stream_tables), self.schema),
            poll_interval=self.poll_interval,
            deadline=datetime.fromisoformat(self.deadline),
            since=self.sources_since,
            rules=self._rules(),
        )

    def _event(self, status: str, report: HealthReport, message: str) -> TriggerEvent:
        return TriggerEvent(  # type: ignore[no-untyped-call]
            {
                "status": status,
                "message": message,
                # Bounded like the report: a trigger event is stored in the metadata database.
                "tables": (report.table_names() or list(self.stream_tables))[:REPORT_LIMIT],
                "report": report.to_dict(),
            }
        )

    def _judge(self, snapshot: Snapshot) -> TriggerEvent | None:
        from airflow_provider_pgtrickle import _health

        report = self._last_report
        if snapshot.failure is not None:
            if snapshot.failure.permanent:
                return self._event("error", report, snapshot.failure.message)
            self._last_failure = snapshot.failure.message
            self.log.warning("pg_trickle: health poll failed, will retry: %s", self._last_failure)
        else:
            self._last_failure = None
            selector = _Selector(tuple(self.stream_tables), self.schema)
            rules = (
                selector,
                self.max_staleness,
                self.min_data_timestamp,
                self.fail_on_error,
                self.fail_on_paused,
                self.require_sla_meeting,
            )
            cached = snapshot.reports.get(rules)
            if cached is None:
                cached = snapshot.reports[rules] = _health.classify(
                    selector.pick_judged(snapshot.judged.get(self._rules(), {})),
                    fail_on_error=self.fail_on_error,
                    fail_on_paused=self.fail_on_paused,
                )
            if self.sources_since is not None and cached.state is HealthState.HEALTHY:
                from airflow_provider_pgtrickle import _caught_up

                for name in cached.table_names():
                    if name in snapshot.blocked:
                        # Waiting would not help (a missing grant, a WAL-captured source).
                        return self._event("error", cached, snapshot.blocked[name])
                since = self.sources_since
                cached = _caught_up.gate(
                    cached,
                    {name: snapshot.pending.get((name, since), 0) for name in cached.table_names()},
                )
            report = self._last_report = cached
            if report.state is HealthState.HEALTHY:
                return self._event("success", report, report.message)
            if report.state is HealthState.FAILED:
                return self._event("error", report, report.message)
            if self._last_logged is None:
                # Once at info, then debug: a thousand waiting triggers share each poll, and a
                # log line costs more than judging the rows.
                self._last_logged = report.message
                self.log.info("pg_trickle: waiting: %s", self._last_logged)
            elif self.log.isEnabledFor(logging.DEBUG):
                self.log.debug("pg_trickle: waiting: %s", report.message)
        if datetime.fromisoformat(self.deadline) <= datetime.now(timezone.utc):
            why = (
                f"the last poll could not reach the database: {self._last_failure}"
                if self._last_failure
                else report.message
            )
            return self._event(
                "timeout",
                report,
                f"Stream tables not healthy by the deadline {self.deadline}: {why} "
                "Raise `timeout` or check the pg_trickle scheduler.",
            )
        return None


class PgTrickleStreamTableRefreshedTrigger(_PgTrickleStreamTrigger):
    """An asset-watcher trigger: fires each time a stream table's data changes.

    Use it in an `AssetWatcher` on `stream_table_asset(...)` to run a DAG whenever pg_trickle
    refreshes the table with new data (its ``data_timestamp`` advances; for a TopK table also a
    completed refresh that changed rows, which a manual TopK refresh records only in the refresh
    history), with no sensor. It never ends; refreshes that find no change (``NO_DATA``) do
    not fire. A notification makes
    it check at once; without one (pooler-compatibility mode, a dropped connection) the
    fallback poll sees the change within ``poll_interval`` seconds.

    Restarts and failover: the trigger records the ``data_timestamp`` it last announced (and
    the one it first observed) per watched asset, in Airflow 3.3's asset state store, or in
    an Airflow Variable on 3.1/3.2 (`_announced`). When a triggerer starts it again, its
    first check compares the server's state with that record: a change made while no
    triggerer ran it fires exactly one event, and a restart without a change fires none.

    :param postgres_conn_id: Airflow connection of type ``postgres``.
    :param stream_table: schema-qualified stream table name.
    :param poll_interval: seconds between fallback polls.
    :param since: ISO 8601 time, used while no record exists: the first check fires if
        ``data_timestamp`` is later. ``None``: the first check only records the current
        ``data_timestamp``.
    """

    _ends_after_event = False

    def __init__(
        self,
        *,
        postgres_conn_id: str,
        stream_table: str,
        poll_interval: float = 60.0,
        since: str | None = None,
    ) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        from airflow_provider_pgtrickle._validation import qualify

        self.postgres_conn_id = postgres_conn_id
        self.stream_table = qualify(stream_table)
        self.poll_interval = float(poll_interval)
        self.since = since
        self._seen: datetime | None = _parse_time(since)
        self._baseline_known = since is not None
        # What the announcement store holds (`_announced`), to write only when it changes.
        self._stored: datetime | None = None
        self._store: Any = None

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "postgres_conn_id": self.postgres_conn_id,
                "stream_table": self.stream_table,
                "poll_interval": self.poll_interval,
                "since": self.since,
            },
        )

    def _interest(self) -> _Interest:
        return _Interest(
            selector=_Selector((self.stream_table,)),
            poll_interval=self.poll_interval,
            deadline=None,
            changes=True,
        )

    async def _restore(self) -> None:
        """Resume from what this watcher last announced before a restart or failover."""
        from airflow_provider_pgtrickle.triggers import _announced

        self._store = _announced.store_for(self)
        if self._store is None:
            return
        try:
            record = _announced.restored(await self._store.load(), self.stream_table)
        except Exception as error:  # the Airflow API is down or refuses: degrade, never fail
            self.log.warning(
                "pg_trickle: cannot read %s for `%s` (%s); a change made while no triggerer "
                "ran this watcher is announced only if `since` covers it.",
                self._store.description,
                self.stream_table,
                _one_line(str(error)) or type(error).__name__,
            )
            self._store = None
            return
        if record is None:
            return
        # The record is the newest thing announced; `since` only matters before any record.
        self._seen = record.data_timestamp
        self._stored = record.data_timestamp
        self._baseline_known = True

    async def _remember(self) -> None:
        """Record the newest announced (or first observed) change, when it moved."""
        from airflow_provider_pgtrickle.triggers._announced import Announced

        if self._store is None or self._seen is None or self._seen == self._stored:
            return
        try:
            await self._store.save(Announced(self.stream_table, self._seen).to_json())
        except Exception as error:  # as in `_restore`: keep watching from memory
            self.log.warning(
                "pg_trickle: cannot write %s for `%s` (%s); after a restart this watcher may "
                "announce its last change again.",
                self._store.description,
                self.stream_table,
                _one_line(str(error)) or type(error).__name__,
            )
            return
        self._stored = self._seen

    # The announcement record around the shared plumbing: read before the first check,
    # written after each event has been handed to the triggerer (so a crash between the two
    # repeats that one event rather than losing it) and after the first check.
    async def _before_first_check(self) -> None:
        await self._restore()

    async def _after_check(self) -> None:
        await self._remember()

    def _judge(self, snapshot: Snapshot) -> TriggerEvent | None:
        if snapshot.failure is not None:
            # A watcher outlives outages: it reports and keeps waiting.
            self.log.warning("pg_trickle: %s", snapshot.failure.message)
            return None
        row = snapshot.rows.get(self.stream_table)
        if row is None:
            self.log.warning(
                "pg_trickle: stream table `%s` is not in the catalog; waiting for it.",
                self.stream_table,
            )
            return None
        # `CHANGED_AT`: data_timestamp, or a later TopK refresh that changed rows.
        stamp = snapshot.changed.get(self.stream_table, row.data_timestamp)
        if not self._baseline_known:
            self._baseline_known = True
            self._seen = stamp
            return None
        if stamp is None or (self._seen is not None and stamp <= self._seen):
            return None
        self._seen = stamp
        return TriggerEvent(  # type: ignore[no-untyped-call]
            {
                "stream_table": self.stream_table,
                "data_timestamp": stamp.isoformat(),
                "status": row.status.value,
                "notified": self.stream_table in snapshot.notified,
            }
        )
