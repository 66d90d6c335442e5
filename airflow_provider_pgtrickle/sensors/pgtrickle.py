"""`PgTrickleHealthSensor`: wait until stream tables are healthy and fresh.

One query per poke for any number of tables, on a connection opened for that poke and closed
after it. Works in ``poke`` and ``reschedule`` mode and, with ``deferrable=True``, hands the
wait to `PgTrickleHealthTrigger` after one check.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta, timezone
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseSensorOperator, PokeReturnValue

from airflow_provider_pgtrickle._compat import AirflowSensorTimeout, conf
from airflow_provider_pgtrickle._validation import (
    MAX_WAIT_SECONDS,
    qualify_many,
    validate_number,
    validate_schema,
)
from airflow_provider_pgtrickle.capabilities import Feature, ReadPath
from airflow_provider_pgtrickle.exceptions import (
    PgTrickleConnectionError,
    PgTrickleSensorTimeout,
    PgTrickleSourcesUncheckableError,
    PgTrickleUnhealthyError,
    PgTrickleValidationError,
    StreamTableNotFoundError,
)
from airflow_provider_pgtrickle.types import HealthReport, HealthState

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_pgtrickle._connection_failures import ConnectionFailure
    from airflow_provider_pgtrickle.hooks.pgtrickle import PgTrickleHook

# Waits after pokes that found no free connection slot: doubling from the poke interval (at
# least this many seconds), capped by `max_wait` or else by `_BUSY_WAIT_CAP`.
_BUSY_WAIT_MIN = 1.0
_BUSY_WAIT_CAP = 300.0


def unhealthy_error(message: str, missing: Sequence[str]) -> PgTrickleUnhealthyError:
    """The error a failed check raises: unknown names are `StreamTableNotFoundError`, the
    operators' error for them too; else `PgTrickleUnhealthyError` (ERROR/SUSPENDED tables)."""
    if missing:
        return StreamTableNotFoundError(
            message, sqlstate="42P01", stream_table=missing[0] if len(missing) == 1 else None
        )
    return PgTrickleUnhealthyError(message)


class PgTrickleHealthSensor(BaseSensorOperator):
    """Wait until stream tables are ACTIVE, populated, error-free and fresh.

    A table is healthy when its status is ACTIVE, it is populated, it has no consecutive
    errors, it was refreshed within ``max_staleness``, and (with
    ``require_current_interval``) it was refreshed at or after the run's ``data_interval_end``
    (a refresh that found nothing to change counts: pg_trickle then keeps ``data_timestamp``
    and moves only ``last_refresh_at``); IMMEDIATE tables are never stale. The rules are the
    dbt test's too (`airflow_provider_pgtrickle.vocabulary.health`, docs/health.md). ERROR or
    SUSPENDED fails at once with `PgTrickleUnhealthyError` naming the table's last error
    (unless ``fail_on_error=False``, then the sensor keeps waiting); unknown names fail at
    once with `StreamTableNotFoundError`, as in the operators. On servers that record why a
    table is SUSPENDED (pg_trickle 0.91.0+), a table paused on purpose
    (``pause_stream_table``) is waited for until it is resumed (``fail_on_paused=True``
    fails instead), while one suspended by errors, a blown fuse or destructive source DDL
    fails, the reason naming which (and the error code where the server records one).

    Each poke opens its own connection and closes it. A database that cannot be reached
    (restarting, shutting down, refusing connections, a dropped connection) does not fail
    the sensor: it logs a warning and pokes again until ``timeout``, as the deferred trigger
    does. When the server has no free connection slot ("too many clients already") the wait
    before the next poke doubles each time, from ``poke_interval`` (at least 1 s) up to
    ``max_wait`` (5 minutes when unset). A refusal that waiting cannot cure (bad password,
    unknown database or role, no permission) fails at once with `PgTrickleConnectionError`.

    On success the XCom is a bounded summary, the same size for 2 or 2,000 tables:
    ``{"state", "message", "counts": {"healthy", "waiting", "failed", "missing"},
    "tables": [at most 10 {"stream_table", "state", "reason"}], "missing": [at most 10
    names], "omitted": verdicts left out of "tables"}`` (see `HealthReport.to_dict`).

    :param stream_tables: one ``schema.table`` or a list. Templated.
    :param schema: every stream table of this schema (when ``stream_tables`` is not given;
        neither means the whole catalog). Templated.
    :param max_staleness: maximum time since the last refresh (timedelta or seconds).
    :param require_current_interval: also require a refresh (with or without changes) at or
        after ``data_interval_end``: ``max(data_timestamp, last_refresh_at) >= data_interval_end``.
    :param fail_on_error: fail at once on ERROR / SUSPENDED tables.
    :param fail_on_paused: fail at once on a paused table instead of waiting for its resume.
    :param require_sla_meeting: also wait until pg_trickle's freshness SLA state
        (``pgtrickle.freshness()``) is ``MEETING``; a table without an interval
        ``target_freshness`` fails. Needs pg_trickle 0.90.0+ (else the first poke fails with
        `PgTrickleFeatureUnavailableError`).
    :param postgres_conn_id: Airflow connection of type ``postgres``.
    :param deferrable: wait in the triggerer (default: ``[operators] default_deferrable``).
        Deferred sensors on one connection share one listener connection in the triggerer
        and wake on pg_trickle's notifications (docs/event-driven.md).
    :param wait_for_sources: also wait until each table reflects every change to its source
        tables committed before the sensor started (read from pg_trickle's change buffers and
        the table's frontier; for a TopK table, a refresh that started after the sensor). Not
        with ``mode="reschedule"``. The login needs ``USAGE`` on schema ``pgtrickle_changes``
        and ``SELECT`` on its tables; a table with a source captured from the WAL cannot be
        judged. Either fails at once with `PgTrickleSourcesUncheckableError` naming the fix.
    """

    template_fields: Sequence[str] = ("stream_tables", "schema")
    ui_color = "#d5e8f7"

    def __init__(
        self,
        *,
        stream_tables: str | list[str] | None = None,
        schema: str | None = None,
        max_staleness: timedelta | float | None = None,
        require_current_interval: bool = False,
        fail_on_error: bool = True,
        fail_on_paused: bool = False,
        require_sla_meeting: bool = False,
        postgres_conn_id: str = "postgres_default",
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        wait_for_sources: bool = False,
        **kwargs: Any,
    ) -> None:
        timeout = kwargs.get("timeout")
        if timeout is not None and not isinstance(timeout, timedelta):
            # Before the base class, whose checks let NaN through and crash on infinity; the
            # trigger also gets an absolute deadline, which must be a representable datetime.
            validate_number(
                timeout,
                argument="timeout",
                subject=str(kwargs.get("task_id")),
                hint="pass a number of seconds",
                maximum=MAX_WAIT_SECONDS if deferrable else None,
            )
        super().__init__(**kwargs)
        if wait_for_sources and self.mode == "reschedule":
            raise PgTrickleValidationError(
                f"Sensor `{self.task_id}`: wait_for_sources needs one continuous wait, but "
                "mode is 'reschedule'; use mode='poke' or deferrable=True."
            )
        self.wait_for_sources = wait_for_sources
        self._sources_since: str | None = None
        if stream_tables is not None and schema is not None:
            raise PgTrickleValidationError(
                f"Sensor `{self.task_id}`: pass either `stream_tables` or `schema`, not both."
            )
        self.stream_tables = stream_tables
        self.schema = schema
        self.max_staleness = self._seconds(max_staleness)
        self.require_current_interval = require_current_interval
        self.fail_on_error = fail_on_error
        self.fail_on_paused = fail_on_paused
        self.require_sla_meeting = require_sla_meeting
        self.postgres_conn_id = postgres_conn_id
        self.deferrable = deferrable
        self._last_report: HealthReport | None = None
        self._last_failure: ConnectionFailure | None = None
        self._busy_pokes = 0
        self._qualified: tuple[object, list[str]] | None = None

    def _seconds(self, value: timedelta | float | None) -> float | None:
        if value is None:
            return None
        seconds = value.total_seconds() if isinstance(value, timedelta) else value
        return validate_number(
            seconds,
            argument="max_staleness",
            subject=self.task_id,
            hint="pass a timedelta or a number of seconds (None for no limit)",
        )

    @cached_property
    def hook(self) -> PgTrickleHook:
        from airflow_provider_pgtrickle.hooks.pgtrickle import PgTrickleHook

        return PgTrickleHook(postgres_conn_id=self.postgres_conn_id)

    def _names(self) -> list[str]:
        if self.stream_tables is None:
            return []
        # Validated once per rendered value, not on every poke of a long wait.
        if self._qualified is None or self._qualified[0] is not self.stream_tables:
            names = qualify_many(self.stream_tables, argument="stream_tables")
            self._qualified = (self.stream_tables, names)
        return self._qualified[1]

    def _schema(self) -> str | None:
        return validate_schema(self.schema) if self.schema is not None else None

    def _min_data_timestamp(self, context: Context) -> datetime | None:
        if not self.require_current_interval:
            return None
        value = context.get("data_interval_end") or context.get("logical_date")
        if value is None:
            dag_run = context.get("dag_run")
            value = getattr(dag_run, "run_after", None)
        if value is None:
            raise PgTrickleValidationError(
                f"Sensor `{self.task_id}`: require_current_interval needs a data interval but "
                "this run has none; schedule the DAG or set require_current_interval=False."
            )
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)

    def _check(self, context: Context) -> HealthReport:
        from airflow_provider_pgtrickle import _health

        names = self._names()
        if self.require_sla_meeting:
            # 0.67.0 has no freshness controller: say so instead of waiting for ever. Probed
            # once per hook; a sensor that does not ask for the SLA state sends one query.
            self.hook.capabilities().require(Feature.FRESHNESS, subject=f"Sensor `{self.task_id}`")
        rules = _health.Rules(
            self.max_staleness,
            self._min_data_timestamp(context),
            require_sla=self.require_sla_meeting,
        )
        query, params = _health.health_query(
            names, self._schema(), rules, read_path=self._read_path()
        )
        rows = self._read(query, params, "read stream table health")
        report = _health.classify(
            _health.judged_rows(rows),
            fail_on_error=self.fail_on_error,
            fail_on_paused=self.fail_on_paused,
        )
        if self._sources_since is not None and report.state is HealthState.HEALTHY:
            report = self._gate_on_sources(report)
        self._last_report = report
        if report.state is HealthState.FAILED:
            raise unhealthy_error(report.message, report.missing)
        return report

    def _start_sources_wait(self) -> None:
        """Take the WAL position every earlier source change lies below (once per run)."""
        if not self.wait_for_sources or self._sources_since is not None:
            return
        from airflow_provider_pgtrickle import _caught_up

        [(lsn, at)] = self._read(_caught_up.START_POSITION, [], "read the WAL position")
        self._sources_since = _caught_up.start_token(str(lsn), at)

    def _read_path(self) -> ReadPath:
        """How to read pg_trickle's state, probed once per hook (`Capabilities.read_path`)."""
        return self.hook.capabilities().read_path

    def _gate_on_sources(self, report: HealthReport) -> HealthReport:
        from airflow_provider_pgtrickle import _caught_up

        since = str(self._sources_since)
        names = report.table_names()
        if not _caught_up.counts_buffers(self.hook.capabilities()):
            query, params = _caught_up.refreshed_query(names)
            found_refreshed = _caught_up.refreshed(
                self._read(query, params, "read the refresh history")
            )
            blocked = _caught_up.refreshed_problems(found_refreshed)
            if blocked:
                table = min(blocked)
                raise PgTrickleSourcesUncheckableError(blocked[table], stream_table=table)
            waiting = _caught_up.refreshed_pending(found_refreshed, [(n, since) for n in names])
            return _caught_up.gate(report, {n: waiting.get((n, since), 0) for n in names})
        query, params = _caught_up.buffers_query(names)
        found = _caught_up.buffers(self._read(query, params, "read the change buffers"))
        blocked = _caught_up.problems(found)
        if blocked:
            table = min(blocked)
            raise PgTrickleSourcesUncheckableError(blocked[table], stream_table=table)
        counting = _caught_up.count_query(found, [(n, since) for n in names])
        if counting is None:
            return report
        rows = self._read(counting[0], counting[1], "read pending source changes")
        pending = _caught_up.totals(rows)
        return _caught_up.gate(report, {n: pending.get((n, since), 0) for n in names})

    def _read(self, query: Any, params: list[Any], operation: str) -> list[tuple[Any, ...]]:
        import psycopg
        from psycopg.rows import tuple_row

        hook = self.hook
        try:
            with (
                hook.new_connection() as conn,
                conn.cursor(row_factory=tuple_row) as cur,
            ):
                # One read, one statement: no BEGIN/COMMIT round trips.
                conn.autocommit = True
                cur.execute(query, params)
                return cur.fetchall()
        except psycopg.Error as error:
            # The hook's mapping, so a database without pg_trickle is the project's
            # PgTrickleExtensionMissingError naming the fix, not a raw `relation
            # "pgtrickle.pgt_stream_tables" does not exist` (read as an unknown stream table).
            raise hook._translate(error, operation, None) from error

    def poke(self, context: Context) -> PokeReturnValue:
        try:
            report = self._check(context)
        except Exception as error:
            from airflow_provider_pgtrickle._connection_failures import (
                ConnectionFailureKind,
                connection_failure,
            )

            failure = connection_failure(error)
            if failure is None:
                raise
            if failure.kind is ConnectionFailureKind.PERMANENT:
                raise PgTrickleConnectionError(
                    f"Sensor `{self.task_id}`: cannot connect with `{self.postgres_conn_id}`: "
                    f"{failure.message}; fix the connection's host, database, login or "
                    "password, or grant the login CONNECT on the database.",
                    conn_id=self.postgres_conn_id,
                    server_message=failure.message,
                ) from error
            self._last_failure = failure
            if failure.kind is ConnectionFailureKind.BUSY:
                self._busy_pokes += 1
                self.log.warning(
                    "pg_trickle: the database of `%s` has no free connection slot (%s); "
                    "waiting longer before the next poke (busy %d time(s) in a row).",
                    self.postgres_conn_id,
                    failure.message,
                    self._busy_pokes,
                )
            else:
                self._busy_pokes = 0
                self.log.warning(
                    "pg_trickle: cannot reach the database of `%s` (%s); poking again until "
                    "the sensor's timeout.",
                    self.postgres_conn_id,
                    failure.message,
                )
            return PokeReturnValue(is_done=False)
        self._last_failure = None
        self._busy_pokes = 0
        healthy = report.state is HealthState.HEALTHY
        self.log.info("pg_trickle: %s", report.message)
        return PokeReturnValue(is_done=healthy, xcom_value=report.to_dict() if healthy else None)

    def _get_next_poke_interval(
        self,
        started_at: datetime | float,
        run_duration: Callable[[], float],
        poke_count: int,
    ) -> float:
        """Airflow's interval, lengthened while the server has no free connection slot."""
        interval = float(super()._get_next_poke_interval(started_at, run_duration, poke_count))
        if self._busy_pokes == 0:
            return interval
        cap = float(self.max_wait.total_seconds()) if self.max_wait else _BUSY_WAIT_CAP
        start = max(float(self.poke_interval), _BUSY_WAIT_MIN)
        backoff = min(start * 2.0 ** min(self._busy_pokes - 1, 16), max(cap, start))
        # Never sleep past the timeout: the last poke still gets its chance.
        remaining = max(float(self.timeout) - run_duration(), 0.0)
        wait = min(max(interval, backoff), remaining)
        self.log.info("pg_trickle: next poke in %.1f s.", wait)
        return wait

    def execute(self, context: Context) -> Any:
        self._start_sources_wait()
        if not self.deferrable:
            try:
                return super().execute(context)
            except AirflowSensorTimeout as error:
                if isinstance(error, PgTrickleSensorTimeout):
                    raise
                if self._last_failure is not None:
                    last = (
                        f"the last poke could not reach the database: {self._last_failure.message}"
                    )
                elif self._last_report is not None:
                    last = self._last_report.message
                else:
                    raise
                raise PgTrickleSensorTimeout(f"{error} Last check: {last}") from error
        # The first check is a poke: a server that is briefly out of reach defers like one that
        # answered "not yet" (the trigger keeps trying); a refused login fails here and now.
        first = self.poke(context)
        if first.is_done:
            return first.xcom_value
        from airflow_provider_pgtrickle.triggers.pgtrickle import PgTrickleHealthTrigger

        deadline = datetime.now(timezone.utc) + timedelta(seconds=self.timeout)
        min_ts = self._min_data_timestamp(context)
        self.log.info("pg_trickle: deferring until %s.", deadline.isoformat())
        self.defer(
            trigger=PgTrickleHealthTrigger(
                postgres_conn_id=self.postgres_conn_id,
                stream_tables=self._names(),
                schema=self._schema(),
                max_staleness=self.max_staleness,
                min_data_timestamp=min_ts.isoformat() if min_ts else None,
                fail_on_error=self.fail_on_error,
                fail_on_paused=self.fail_on_paused,
                require_sla_meeting=self.require_sla_meeting,
                poll_interval=float(self.poke_interval),
                deadline=deadline.isoformat(),
                sources_since=self._sources_since,
            ),
            method_name="execute_complete",
        )

    def execute_complete(self, context: Context, event: dict[str, Any]) -> dict[str, Any]:
        """Resume after the trigger: success returns the report, other events raise."""
        status = event.get("status")
        message = str(event.get("message", ""))
        if status == "success":
            self.log.info("pg_trickle: %s", message)
            report: dict[str, Any] = event.get("report") or {}
            return report
        if status == "timeout":
            raise PgTrickleSensorTimeout(message)
        missing = (event.get("report") or {}).get("missing") or []
        raise unhealthy_error(message or f"Unexpected trigger event {event!r}.", missing)
