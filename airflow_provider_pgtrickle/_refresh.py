"""Refresh many stream tables in dependency order, independent ones in parallel.

pg_trickle 0.67.0 has no server-side "refresh all", so the client reads the catalog and the
`STREAM_TABLE` dependency edges once (`PgTrickleHook.refresh_plan`) and calls
`refresh_stream_table` per table. A table starts once every selected table upstream of it
(also through unselected intermediate stream tables) has finished. Each worker thread owns
one connection; `cancel()` sends a cancel request for every statement in flight.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import TYPE_CHECKING, Any

from airflow_provider_pgtrickle.exceptions import PgTrickleError
from airflow_provider_pgtrickle.types import (
    RefreshOutcome,
    RefreshPlanEntry,
    RefreshResult,
    StreamTableStatus,
)

if TYPE_CHECKING:
    import psycopg

    from airflow_provider_pgtrickle.hooks.pgtrickle import PgTrickleHook

_BLOCKING = (RefreshOutcome.FAILED, RefreshOutcome.UPSTREAM_FAILED)
# pg_trickle skips a refresh while another one holds the table (src/api/refresh_ops.rs: the
# advisory lock, then the catalog row lock). Two batches over the same tables can each be
# skipped by the other's brief attempt and leave a table refreshed by neither, so a skipped
# table is tried again after these pauses; a refresh that really is running (the scheduler,
# a long manual one) is still running then, and the table is reported skipped.
_SKIP_RETRY_DELAYS = (0.2, 1.0)


def selected_ancestors(
    plan: Sequence[RefreshPlanEntry], selected: Sequence[str]
) -> dict[str, set[str]]:
    """For each selected table, the selected tables upstream of it (transitively)."""
    upstream = {entry.name: list(entry.upstream) for entry in plan}
    chosen = set(selected)
    out: dict[str, set[str]] = {}
    for name in selected:
        seen: set[str] = set()
        stack = list(upstream.get(name, []))
        while stack:
            node = stack.pop()
            if node in seen:
                continue
            seen.add(node)
            stack.extend(upstream.get(node, []))
        seen.discard(name)
        out[name] = seen & chosen
    return out


def dependency_order(plan: Sequence[RefreshPlanEntry], selected: Sequence[str]) -> list[str]:
    """A topological order of the selected tables (ties keep the input order)."""
    ancestors = selected_ancestors(plan, selected)
    order: list[str] = []
    remaining = list(selected)
    while remaining:
        ready = [n for n in remaining if ancestors[n] <= set(order)]
        if not ready:
            raise PgTrickleError(
                f"Stream tables {', '.join(f'`{n}`' for n in remaining)} form a dependency "
                "cycle; refresh them individually."
            )
        order.extend(ready)
        remaining = [n for n in remaining if n not in ready]
    return order


class RefreshRunner:
    """Runs one refresh batch; `cancel()` may be called from another thread (`on_kill`)."""

    def __init__(self, hook: PgTrickleHook, *, max_parallel: int, log: Any) -> None:
        self._hook = hook
        self._max_parallel = max_parallel
        self._log = log
        self._local = threading.local()
        self._connections: list[psycopg.Connection[Any]] = []
        self._lock = threading.Lock()
        self._cancelled = threading.Event()

    def _connection(self, name: str) -> psycopg.Connection[Any]:
        # A connection lost in an earlier refresh (server restart) is closed: open another.
        conn: psycopg.Connection[Any] | None = getattr(self._local, "conn", None)
        if conn is None or conn.closed:
            conn = self._hook.new_connection(operation="refresh_stream_table", stream_table=name)
            self._local.conn = conn
            with self._lock:
                self._connections.append(conn)
        return conn

    def _refresh_one(self, name: str) -> RefreshResult:
        # Connect first: a cancel() from here on sees this connection, which leaves only the
        # instant between this check and the statement reaching the server unprotected.
        try:
            connection = self._connection(name)
            if self._cancelled.is_set():
                return RefreshResult(name, RefreshOutcome.FAILED, message="cancelled before start")
            result = self._hook.refresh_stream_table(name, connection=connection)
            for delay in _SKIP_RETRY_DELAYS:
                # `wait` returns early (True) when the batch is cancelled meanwhile.
                if result.action is not RefreshOutcome.SKIPPED or self._cancelled.wait(delay):
                    break
                result = self._hook.refresh_stream_table(name, connection=connection)
            return result
        except PgTrickleError as error:
            self._log.error("pg_trickle: refresh of %s failed: %s", name, error)
            # Typed where the server types refresh errors (hooks: _typed_refresh_failure).
            return RefreshResult(
                name,
                RefreshOutcome.FAILED,
                message=str(error),
                error_code=getattr(error, "error_code", None),
                retryable=getattr(error, "retryable", None),
            )

    def cancel(self) -> None:
        """Stop starting refreshes and cancel the statements running on the server."""
        self._cancelled.set()
        with self._lock:
            connections = list(self._connections)
        for conn in connections:
            if not conn.closed:
                conn.cancel_safe()

    def run(
        self,
        plan: Sequence[RefreshPlanEntry],
        selected: Sequence[str],
    ) -> list[RefreshResult]:
        """Refresh ``selected`` (qualified names present in ``plan``); results in plan order."""
        status = {entry.name: entry.status for entry in plan}
        order = dependency_order(plan, selected)
        ancestors = selected_ancestors(plan, selected)
        results: dict[str, RefreshResult] = {}
        pending = list(order)
        running: dict[Future[RefreshResult], str] = {}
        pool = ThreadPoolExecutor(max_workers=self._max_parallel, thread_name_prefix="pgtrickle")
        try:
            while pending or running:
                for name in list(pending):
                    if not ancestors[name] <= results.keys():
                        continue
                    if any(results[a].action in _BLOCKING for a in ancestors[name]):
                        results[name] = RefreshResult(
                            name,
                            RefreshOutcome.UPSTREAM_FAILED,
                            message="not refreshed because an upstream refresh failed",
                        )
                    elif StreamTableStatus(status[name]).is_failed:
                        message = f"skipped: status is {status[name].value}"
                        self._log.warning("pg_trickle: %s %s", name, message)
                        results[name] = RefreshResult(
                            name, RefreshOutcome.SKIPPED_UNHEALTHY, message=message
                        )
                    elif len(running) < self._max_parallel and not self._cancelled.is_set():
                        running[pool.submit(self._refresh_one, name)] = name
                    else:
                        continue
                    pending.remove(name)
                if self._cancelled.is_set() and not running:
                    for name in pending:
                        results[name] = RefreshResult(
                            name, RefreshOutcome.FAILED, message="cancelled before start"
                        )
                    pending = []
                    break
                if not running:
                    continue
                done, _ = wait(list(running), return_when=FIRST_COMPLETED)
                for future in done:
                    name = running.pop(future)
                    results[name] = future.result()
        except BaseException:
            # E.g. AirflowTaskTimeout from execution_timeout: the task runner calls on_kill
            # only after execute() has returned, and shutdown() below would wait for the
            # refreshes still running on the server, so cancel them here.
            self.cancel()
            raise
        finally:
            pool.shutdown(wait=True)
            with self._lock:
                for conn in self._connections:
                    conn.close()
                self._connections.clear()
        return [results[name] for name in order]
