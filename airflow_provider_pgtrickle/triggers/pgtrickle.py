"""`PgTrickleHealthTrigger`: the deferred half of `PgTrickleHealthSensor`.

Polls the same single health query as the sensor over an async psycopg connection, applies
the same rules (`airflow_provider_pgtrickle._health`) and yields exactly one event:

``{"status": "success" | "error" | "timeout", "message": str, "tables": [names],
"report": {...}}``

It carries its own absolute deadline, so the sensor defers without ``timeout=``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime, timezone
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_provider_pgtrickle.types import HealthReport, HealthState

# Connection failures that waiting will not cure (the server answered and refused), told
# apart by text: psycopg reports no SQLSTATE for failures while connecting.
_PERMANENT_CONNECT_FAILURES = (
    "password authentication failed",
    "no pg_hba.conf entry",
    "does not exist",
    "permission denied",
    "too many connections for role",
)


def _parse_time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


class PgTrickleHealthTrigger(BaseTrigger):
    """Wait in the triggerer until stream tables are healthy, fail, or the deadline passes.

    :param postgres_conn_id: Airflow connection of type ``postgres``.
    :param stream_tables: validated, schema-qualified names (empty: use ``schema``/all).
    :param schema: every stream table of this schema (when ``stream_tables`` is empty).
    :param max_staleness: seconds since the last refresh allowed, or ``None``.
    :param min_data_timestamp: ISO 8601 time ``data_timestamp`` must reach, or ``None``.
    :param fail_on_error: ERROR/SUSPENDED ends the wait with an ``error`` event.
    :param poll_interval: seconds between polls.
    :param deadline: ISO 8601 (UTC) time at which a ``timeout`` event is sent.
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
    ) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.postgres_conn_id = postgres_conn_id
        self.stream_tables = list(stream_tables)
        self.schema = schema
        self.max_staleness = max_staleness
        self.min_data_timestamp = min_data_timestamp
        self.fail_on_error = fail_on_error
        self.poll_interval = poll_interval
        self.deadline = deadline

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
            },
        )

    async def _connect(self) -> Any:
        import psycopg
        from airflow.sdk import BaseHook

        from airflow_provider_pgtrickle.hooks.pgtrickle import PgTrickleHook

        conn = await BaseHook.aget_connection(self.postgres_conn_id)
        extra = await conn.aextra_dejson() if hasattr(conn, "aextra_dejson") else conn.extra_dejson
        kwargs: dict[str, Any] = {
            key: value
            for key, value in extra.items()
            if key not in PgTrickleHook.ignored_extra_options
        }
        return await psycopg.AsyncConnection.connect(
            host=conn.host,
            port=conn.port,
            user=conn.login,
            password=conn.password,
            dbname=conn.schema,
            autocommit=True,
            **kwargs,
        )

    def _event(self, status: str, report: HealthReport, message: str) -> TriggerEvent:
        return TriggerEvent(  # type: ignore[no-untyped-call]
            {
                "status": status,
                "message": message,
                "tables": report.table_names() or list(self.stream_tables),
                "report": report.to_dict(),
            }
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        import psycopg

        from airflow_provider_pgtrickle import _health

        deadline = datetime.fromisoformat(self.deadline)
        min_ts = _parse_time(self.min_data_timestamp)
        query, params = _health.health_query(self.stream_tables, self.schema)
        report = HealthReport(tables=())
        conn: Any = None
        last_failure: str | None = None
        try:
            while True:
                try:
                    if conn is None or conn.closed:
                        conn = await self._connect()
                    cur = await conn.execute(query, params)
                    rows = await cur.fetchall()
                except psycopg.OperationalError as error:
                    if conn is not None:
                        await conn.close()
                    conn = None
                    last_failure = str(error).strip()
                    if any(text in last_failure for text in _PERMANENT_CONNECT_FAILURES):
                        yield self._event(
                            "error",
                            report,
                            f"Cannot connect with `{self.postgres_conn_id}`: {last_failure}; "
                            "fix the connection's host, database, login or password.",
                        )
                        return
                    # A dropped connection is retried until the deadline; the event says why.
                    self.log.warning("pg_trickle: health poll failed, will retry: %s", error)
                except psycopg.Error as error:
                    yield self._event(
                        "error", report, f"Health query failed: {error}; check the connection."
                    )
                    return
                else:
                    last_failure = None
                    report = _health.classify(
                        _health.rows_to_health(rows),
                        requested=self.stream_tables,
                        max_staleness=self.max_staleness,
                        min_data_timestamp=min_ts,
                        fail_on_error=self.fail_on_error,
                    )
                    if report.state is HealthState.HEALTHY:
                        yield self._event("success", report, report.message)
                        return
                    if report.state is HealthState.FAILED:
                        yield self._event("error", report, report.message)
                        return
                    self.log.info("pg_trickle: waiting: %s", report.message)
                remaining = (deadline - datetime.now(timezone.utc)).total_seconds()
                if remaining <= 0:
                    why = (
                        f"the last poll could not reach the database: {last_failure}"
                        if last_failure
                        else report.message
                    )
                    yield self._event(
                        "timeout",
                        report,
                        f"Stream tables not healthy by the deadline {self.deadline}: "
                        f"{why} Raise `timeout` or check the pg_trickle scheduler.",
                    )
                    return
                await asyncio.sleep(min(self.poll_interval, remaining))
        finally:
            if conn is not None and not conn.closed:
                await conn.close()
