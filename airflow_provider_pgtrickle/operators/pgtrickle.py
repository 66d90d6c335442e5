"""Operators that deploy, alter, drop, refresh and resume pg_trickle stream tables.

All SQL goes through `PgTrickleHook`. Every operator is safe to retry: create is a
create-or-replace, drop defaults to ``if_exists``, resume leaves ACTIVE tables alone, and a
refresh can always run again. Return values (XCom) are JSON-native.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.sdk import AssetAlias, BaseOperator

from airflow_provider_pgtrickle._validation import (
    DEFAULT_REFRESH_MODE,
    DEFAULT_SCHEDULE,
    check_arguments,
    qualify,
    qualify_many,
    validate_full_policy,
    validate_positive_int,
    validate_refresh_mode,
    validate_schedule,
    validate_schema,
    validate_status,
)
from airflow_provider_pgtrickle.assets import STREAM_TABLE_ASSET_ALIAS, stream_table_location
from airflow_provider_pgtrickle.exceptions import (
    PgTrickleError,
    PgTrickleRefreshError,
    PgTrickleRefreshPermanentError,
    PgTrickleValidationError,
    StreamTableNotFoundError,
)
from airflow_provider_pgtrickle.types import (
    FullPolicy,
    GraphRefreshResult,
    OrchestrationMode,
    RefreshOutcome,
    StreamTableStatus,
)
from airflow_provider_pgtrickle.vocabulary.config import Surface

_FAILED = (RefreshOutcome.FAILED, RefreshOutcome.UPSTREAM_FAILED)

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_pgtrickle._refresh import RefreshRunner
    from airflow_provider_pgtrickle.hooks.pgtrickle import PgTrickleHook
    from airflow_provider_pgtrickle.types import DependencyEdge, RefreshPlanEntry


def _is_static(value: object) -> bool:
    """True when a templated argument holds no Jinja, so it can be validated at parse time."""
    return isinstance(value, str) and "{{" not in value and "{%" not in value


class _PgTrickleBaseOperator(BaseOperator):
    """Connection handling, asset events and OpenLineage shared by the operators."""

    ui_color = "#d5e8f7"

    def __init__(
        self, *, postgres_conn_id: str = "postgres_default", emit_assets: bool = True, **kwargs: Any
    ) -> None:
        if emit_assets:
            outlets = list(kwargs.pop("outlets", None) or [])
            outlets.append(AssetAlias(STREAM_TABLE_ASSET_ALIAS))
            kwargs["outlets"] = outlets
        super().__init__(**kwargs)
        self.postgres_conn_id = postgres_conn_id
        self.emit_assets = emit_assets
        self._touched: list[str] = []
        self._lineage_edges: list[DependencyEdge] = []

    @cached_property
    def hook(self) -> PgTrickleHook:
        from airflow_provider_pgtrickle.hooks.pgtrickle import PgTrickleHook

        return PgTrickleHook(postgres_conn_id=self.postgres_conn_id)

    def _emit(self, context: Context, names: Sequence[str]) -> None:
        """Record which tables were touched: asset events and OpenLineage outputs."""
        self._touched = list(names)
        if not names:
            return
        if self.emit_assets:
            from airflow.sdk import Asset

            location = stream_table_location(self.hook)
            events = context["outlet_events"][AssetAlias(STREAM_TABLE_ASSET_ALIAS)]
            for name in names:
                events.add(Asset(uri=location.asset_uri(name)))
        from airflow_provider_pgtrickle.lineage import openlineage_available

        if openlineage_available():
            self._lineage_edges = self.hook.dependency_graph()

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> Any:
        """Inputs from the dependency catalog, outputs the stream tables touched."""
        from airflow_provider_pgtrickle.lineage import operator_lineage

        return operator_lineage(
            location=stream_table_location(self.hook),
            stream_tables=self._touched,
            edges=self._lineage_edges,
        )


class PgTrickleCreateStreamTableOperator(_PgTrickleBaseOperator):
    """Deploy a stream table idempotently (create, or replace in place when it differs).

    Returns ``{"stream_table", "action": "created"|"altered"|"unchanged", "changed": [...]}``.

    :param stream_table: ``schema.table`` (lower-case identifiers; unqualified means public).
        Templated.
    :param query: the defining ``SELECT`` (or a path ending in ``.sql``). Templated.
    :param schedule: duration (``'5m'``, ``'1h30m'``), cron, or ``'calculated'`` (or None);
        default ``'1m'``. Templated. Accepted words: docs/reference/configuration.md.
    :param refresh_mode: ``DIFFERENTIAL`` (default), ``FULL``, ``IMMEDIATE`` or ``AUTO``.
        Templated.
    :param initialize: fill the table when it is created (ignored for existing tables).
    :param options: further create arguments (``diamond_consistency``, ``cdc_mode``,
        ``append_only``, ``pooler_compatibility_mode``, ``partition_by``,
        ``max_differential_joins``, ``max_delta_fraction``).
    :param str postgres_conn_id: Airflow connection of type ``postgres``.
    :param bool emit_assets: emit an asset event for the stream table.
    """

    template_fields: Sequence[str] = ("stream_table", "query", "schedule", "refresh_mode")
    template_ext: Sequence[str] = (".sql",)
    template_fields_renderers = {"query": "sql"}

    def __init__(
        self,
        *,
        stream_table: str,
        query: str,
        schedule: str | None = DEFAULT_SCHEDULE,
        refresh_mode: str = DEFAULT_REFRESH_MODE,
        initialize: bool = True,
        options: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.stream_table = stream_table
        self.query = query
        self.schedule = "calculated" if schedule is None else schedule
        self.refresh_mode = refresh_mode
        self.initialize = initialize
        self.options = dict(options or {})
        if _is_static(stream_table):
            qualify(stream_table)
        if _is_static(self.schedule):
            validate_schedule(self.schedule, subject=str(stream_table))
        if _is_static(refresh_mode):
            validate_refresh_mode(refresh_mode, subject=str(stream_table))
            # Words, ranges and combinations (IMMEDIATE + partition_by, ...) fail at parse
            # time; a templated schedule is checked by the hook when the task runs.
            static = {"refresh_mode": refresh_mode, **self.options}
            if _is_static(self.schedule):
                static["schedule"] = self.schedule
            check_arguments(str(stream_table), static, Surface.CREATE)

    def execute(self, context: Context) -> dict[str, Any]:
        result = self.hook.create_or_replace_stream_table(
            self.stream_table,
            self.query,
            schedule=self.schedule,
            refresh_mode=self.refresh_mode,
            initialize=self.initialize,
            **self.options,
        )
        self._emit(context, [result.stream_table])
        return result.to_dict()


class PgTrickleAlterStreamTableOperator(_PgTrickleBaseOperator):
    """Change only the given settings of an existing stream table.

    Returns ``{"stream_table", "altered": [setting names]}``.

    :param stream_table: ``schema.table``. Templated.
    :param schedule: new schedule (duration, cron or ``'calculated'``). Templated.
    :param refresh_mode: ``DIFFERENTIAL``, ``FULL`` or ``IMMEDIATE`` (``AUTO`` is refused).
        Templated.
    :param status: ``ACTIVE``, ``SUSPENDED`` (``PAUSED`` accepted), ``ERROR``, ``INITIALIZING``.
        Templated.
    :param query: new defining query (an in-place full rebuild). Templated, ``.sql`` allowed.
    :param options: further alter arguments (``tier``, ``cdc_mode``, ``diamond_consistency``,
        ``append_only``, ``fuse``, ``fuse_ceiling``, ``fuse_sensitivity``, ``partition_by``,
        ``max_differential_joins``, ``max_delta_fraction``, ...).
    """

    template_fields: Sequence[str] = ("stream_table", "schedule", "refresh_mode", "status", "query")
    template_ext: Sequence[str] = (".sql",)
    template_fields_renderers = {"query": "sql"}

    def __init__(
        self,
        *,
        stream_table: str,
        schedule: str | None = None,
        refresh_mode: str | None = None,
        status: str | None = None,
        query: str | None = None,
        options: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("emit_assets", False)
        super().__init__(**kwargs)
        self.stream_table = stream_table
        self.schedule = schedule
        self.refresh_mode = refresh_mode
        self.status = status
        self.query = query
        self.options = dict(options or {})
        subject = str(stream_table)
        if _is_static(stream_table):
            qualify(stream_table)
        if _is_static(schedule):
            validate_schedule(schedule, subject=subject)
        if _is_static(refresh_mode):
            validate_refresh_mode(refresh_mode, subject=subject, for_alter=True)
        if _is_static(status):
            validate_status(status, subject=subject)
        static = {
            key: value
            for key, value in {
                "schedule": schedule,
                "refresh_mode": refresh_mode,
                "status": status,
            }.items()
            if _is_static(value)
        }
        check_arguments(subject, {**static, **self.options}, Surface.ALTER)
        if all(v is None for v in (schedule, refresh_mode, status, query)) and not self.options:
            raise PgTrickleValidationError(
                f"Stream table `{subject}`: nothing to alter; pass schedule, refresh_mode, "
                "status, query or options."
            )

    def execute(self, context: Context) -> dict[str, Any]:
        self.hook.alter_stream_table(
            self.stream_table,
            query=self.query,
            schedule=self.schedule,
            refresh_mode=self.refresh_mode,
            status=self.status,
            **self.options,
        )
        given = {
            "query": self.query,
            "schedule": self.schedule,
            "refresh_mode": self.refresh_mode,
            "status": self.status,
            **self.options,
        }
        altered = [key for key, value in given.items() if value is not None]
        if self.query is not None:
            self._emit(context, [qualify(self.stream_table)])
        return {"stream_table": qualify(self.stream_table), "altered": altered}


class PgTrickleDropStreamTableOperator(_PgTrickleBaseOperator):
    """Drop a stream table (its storage table, catalog row and history).

    Returns ``{"stream_table", "dropped": bool}``.

    :param stream_table: ``schema.table``. Templated.
    :param if_exists: succeed without doing anything when it does not exist (retry-safe).
    :param cascade: also drop stream tables that read from it.
    """

    template_fields: Sequence[str] = ("stream_table",)

    def __init__(
        self, *, stream_table: str, if_exists: bool = True, cascade: bool = False, **kwargs: Any
    ) -> None:
        kwargs.setdefault("emit_assets", False)
        super().__init__(**kwargs)
        self.stream_table = stream_table
        self.if_exists = if_exists
        self.cascade = cascade
        if _is_static(stream_table):
            qualify(stream_table)

    def execute(self, context: Context) -> dict[str, Any]:
        dropped = self.hook.drop_stream_table(
            self.stream_table, if_exists=self.if_exists, cascade=self.cascade
        )
        return {"stream_table": qualify(self.stream_table), "dropped": dropped}


def _selection(
    stream_tables: str | list[str] | None, schema: str | None, all_stream_tables: bool
) -> None:
    given = sum([stream_tables is not None, schema is not None, bool(all_stream_tables)])
    if given != 1:
        raise PgTrickleValidationError(
            "Pass exactly one of `stream_tables` (a name or a list), `schema`, or "
            f"`all_stream_tables=True` (got stream_tables={stream_tables!r}, schema={schema!r}, "
            f"all_stream_tables={all_stream_tables!r})."
        )


def _select(
    plan: Sequence[RefreshPlanEntry], names: Sequence[str], schema: str | None
) -> list[str]:
    """Names from the plan that the operator should act on; unknown names fail."""
    known = [entry.name for entry in plan]
    if names:
        missing = [n for n in names if n not in known]
        if missing:
            raise StreamTableNotFoundError(
                f"Stream table(s) {', '.join(f'`{n}`' for n in missing)} not found in the "
                "pg_trickle catalog; check the names (schema-qualified, lower case) or create "
                "them first.",
                sqlstate="42P01",
            )
        return list(names)
    if schema is not None:
        return [n for n in known if n.split(".", 1)[0] == schema]
    return known


class PgTrickleRefreshOperator(_PgTrickleBaseOperator):
    """Refresh stream tables now, in dependency order, independent ones in parallel.

    SUSPENDED and ERROR tables are skipped with a warning (or fail the task before anything
    is refreshed with ``fail_on_unhealthy=True``). A refresh pg_trickle skipped because
    another one was running is reported as ``skipped``. Returns one dict per table:
    ``stream_table, action, refresh_action, rows_inserted, rows_deleted, duration_ms,
    data_timestamp, message``.

    :param stream_tables: one ``schema.table`` or a list. Templated.
    :param schema: refresh every stream table of this schema. Templated.
    :param all_stream_tables: refresh every stream table in the database.
    :param max_parallel: at most this many refreshes (and connections) at a time.
    :param fail_on_unhealthy: fail instead of skipping SUSPENDED / ERROR tables.
    :param include_upstream: also refresh every stream table upstream of the selected ones.
    :param full_policy: for ``EXTERNAL`` tables (pg_trickle 0.93.0+), ``ALLOW`` (default) or
        ``ERROR``: fail the whole graph refresh when a member would need a whole-query FULL
        refresh.
    :param expected_graph_digest: for ``EXTERNAL`` tables, the graph digest (hex) read
        earlier (`PgTrickleHook.graph_contract_digest`, e.g. in an upstream task): the refresh
        fails with `PgTrickleGraphChangedError` unless the graph is still that one. Templated.

    ``EXTERNAL`` tables (only a coordinator refreshes them) are refreshed first, together,
    through `PgTrickleHook.refresh_graph_strict`: one transaction that reads the graph
    contract, checks its digest, locks every member and refreshes the selection with its
    upstream closure in topological order; the XCom key ``graph_refresh`` holds the graph
    refresh id, the digest and one result per member. ``MANAGED`` tables (and every table on
    servers without the strict API, e.g. 0.67.0) take the per-table path above, whose
    guarantee is weaker: see docs/airflow-owns-refresh.md.
    """

    template_fields: Sequence[str] = ("stream_tables", "schema", "expected_graph_digest")

    def __init__(
        self,
        *,
        stream_tables: str | list[str] | None = None,
        schema: str | None = None,
        all_stream_tables: bool = False,
        max_parallel: int = 4,
        fail_on_unhealthy: bool = False,
        include_upstream: bool = False,
        full_policy: FullPolicy | str = FullPolicy.ALLOW,
        expected_graph_digest: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        _selection(stream_tables, schema, all_stream_tables)
        self.expected_graph_digest = expected_graph_digest
        self.include_upstream = include_upstream
        self.full_policy = validate_full_policy(full_policy, subject=f"Task `{self.task_id}`")
        self._graph_connection: Any = None
        self.stream_tables = stream_tables
        self.schema = schema
        self.all_stream_tables = all_stream_tables
        self.max_parallel = validate_positive_int(
            max_parallel, argument="max_parallel", subject=self.task_id
        )
        self.fail_on_unhealthy = fail_on_unhealthy
        self._runner: RefreshRunner | None = None

    def execute(self, context: Context) -> list[dict[str, Any]]:
        from airflow_provider_pgtrickle._refresh import RefreshRunner

        names = (
            qualify_many(self.stream_tables, argument="stream_tables")
            if self.stream_tables is not None
            else []
        )
        schema = validate_schema(self.schema) if self.schema is not None else None
        plan = self.hook.refresh_plan()
        selected = _select(plan, names, schema)
        status = {entry.name: entry.status for entry in plan}
        unhealthy = [n for n in selected if StreamTableStatus(status[n]).is_failed]
        if unhealthy and self.fail_on_unhealthy:
            details = ", ".join(f"`{n}` ({status[n].value})" for n in unhealthy)
            raise PgTrickleRefreshError(
                f"Stream table(s) {details} cannot be refreshed; resume them with "
                "`PgTrickleResumeOperator` or set `fail_on_unhealthy=False` to skip them.",
                results=[],
            )
        if self.include_upstream:
            selected = _with_upstream(plan, selected)
        graph, selected = self._refresh_external(context, selected, status)
        self.log.info("pg_trickle: refreshing %d stream table(s): %s", len(selected), selected)
        self._runner = RefreshRunner(self.hook, max_parallel=self.max_parallel, log=self.log)
        results = self._runner.run(plan, selected)
        self._runner = None
        refreshed = [r.stream_table for r in results if r.action is RefreshOutcome.REFRESHED]
        payload = [r.to_dict() for r in results]
        if graph is not None:
            refreshed = [n.stream_table for n in graph.nodes] + refreshed
            payload = _graph_payload(graph) + payload
        for r in results:
            self.log.info("pg_trickle: %s: %s", r.stream_table, r.action.value)
        failed = [r for r in results if r.action is RefreshOutcome.FAILED]
        if failed:
            # The tables that did refresh are real work: their asset events and the per-table
            # results (XCom key `refresh_results`) survive the failure.
            with contextlib.suppress(PgTrickleError):
                self._emit(context, refreshed)
            ti = context.get("ti")
            if ti is not None:
                ti.xcom_push(key="refresh_results", value=payload)
            done = ", ".join(f"`{r.stream_table}`" for r in results if r.action not in _FAILED)
            details = "; ".join(f"`{r.stream_table}`: {r.message}" for r in failed)
            # A failure the server typed as permanent (vocabulary/failures.py) fails the task
            # without using its retries: a retry would fail the same way. Untyped failures
            # (0.67.0, connection losses) are retried as before.
            permanent = [r.stream_table for r in failed if r.retryable is False]
            if permanent:
                raise PgTrickleRefreshPermanentError(
                    f"{len(failed)} of {len(results)} stream table refresh(es) failed: "
                    f"{details}. Finished: {done or 'none'} (per-table results in XCom "
                    f"`refresh_results`). The failure of "
                    f"{', '.join(f'`{n}`' for n in permanent)} is permanent, so the task fails "
                    "without retrying; fix the cause, then clear the task.",
                    results=payload,
                )
            raise PgTrickleRefreshError(
                f"{len(failed)} of {len(results)} stream table refresh(es) failed: {details}. "
                f"Finished: {done or 'none'} (per-table results in XCom `refresh_results`); "
                "fix the cause and retry the task (refreshing again is safe).",
                results=payload,
            )
        self._emit(context, refreshed)
        return payload

    def _refresh_external(
        self, context: Context, selected: list[str], status: dict[str, StreamTableStatus]
    ) -> tuple[GraphRefreshResult | None, list[str]]:
        """Refresh the selected ``EXTERNAL`` tables with one strict graph refresh; returns its
        result (also pushed as XCom ``graph_refresh``) and the tables left for the per-table
        path. SUSPENDED / ERROR roots are left to that path, which skips them."""
        modes = self.hook.orchestration_modes()
        external = [
            n
            for n in selected
            if modes.get(n) is OrchestrationMode.EXTERNAL
            and not StreamTableStatus(status[n]).is_failed
        ]
        if not external:
            return None, selected
        members = set(external)
        self.log.info("pg_trickle: strict graph refresh of %s", external)
        self._graph_connection = self.hook.new_connection(
            operation="refresh_graph_strict", stream_table=", ".join(external)
        )
        try:
            graph = self.hook.refresh_graph_strict(
                external,
                full_policy=self.full_policy,
                expected_graph_digest=self.expected_graph_digest or None,
                connection=self._graph_connection,
            )
        finally:
            self._graph_connection.close()
            self._graph_connection = None
        ti = context.get("ti")
        if ti is not None:
            ti.xcom_push(key="graph_refresh", value=graph.to_dict())
        members.update(n.stream_table for n in graph.nodes)
        return graph, [n for n in selected if n not in members]

    def on_kill(self) -> None:
        graph_connection = self._graph_connection
        if graph_connection is not None and not graph_connection.closed:
            self.log.warning("pg_trickle: cancelling the strict graph refresh")
            graph_connection.cancel_safe()
        runner = self._runner
        if runner is not None:
            self.log.warning("pg_trickle: cancelling running refreshes")
            runner.cancel()


def _with_upstream(plan: Sequence[RefreshPlanEntry], selected: Sequence[str]) -> list[str]:
    """``selected`` plus every stream table upstream of them, in plan order."""
    upstream = {entry.name: entry.upstream for entry in plan}
    wanted = set(selected)
    stack = list(selected)
    while stack:
        for parent in upstream.get(stack.pop(), ()):
            if parent not in wanted:
                wanted.add(parent)
                stack.append(parent)
    return [entry.name for entry in plan if entry.name in wanted]


def _graph_payload(graph: GraphRefreshResult) -> list[dict[str, Any]]:
    """The strict graph refresh's members in the operator's per-table result shape."""
    return [
        {
            "stream_table": n.stream_table,
            "action": RefreshOutcome.REFRESHED.value,
            "refresh_action": n.action,
            "rows_inserted": n.rows_inserted,
            "rows_deleted": n.rows_deleted,
            "duration_ms": None,
            "data_timestamp": None,
            "message": f"strict graph refresh {graph.graph_refresh_id}: {n.result_class}",
        }
        for n in graph.nodes
    ]


class PgTrickleResumeOperator(_PgTrickleBaseOperator):
    """Resume SUSPENDED or ERROR stream tables (ACTIVE ones are left alone; no refresh).

    Returns one dict per table: ``stream_table, action ("resumed"|"unchanged"),
    status_before``.

    :param stream_tables: one ``schema.table`` or a list. Templated.
    :param schema: resume every SUSPENDED/ERROR stream table of this schema. Templated.
    """

    template_fields: Sequence[str] = ("stream_tables", "schema")

    def __init__(
        self,
        *,
        stream_tables: str | list[str] | None = None,
        schema: str | None = None,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("emit_assets", False)
        super().__init__(**kwargs)
        _selection(stream_tables, schema, False)
        self.stream_tables = stream_tables
        self.schema = schema

    def execute(self, context: Context) -> list[dict[str, Any]]:
        names = (
            qualify_many(self.stream_tables, argument="stream_tables")
            if self.stream_tables is not None
            else []
        )
        schema = validate_schema(self.schema) if self.schema is not None else None
        plan = self.hook.refresh_plan()
        selected = _select(plan, names, schema)
        status = {entry.name: entry.status for entry in plan}
        results: list[dict[str, Any]] = []
        for name in selected:
            before = StreamTableStatus(status[name])
            if before.is_failed:
                self.hook.resume_stream_table(name)
                action = "resumed"
            else:
                action = "unchanged"
            results.append({"stream_table": name, "action": action, "status_before": before.value})
        return results
