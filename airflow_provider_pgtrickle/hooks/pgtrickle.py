"""`PgTrickleHook`: the only place that writes pg_trickle SQL for Airflow.

Every mutating method runs in its own transaction that is committed before it returns; a
failure rolls back and raises an exception from `airflow_provider_pgtrickle.exceptions`
carrying the server's message. Readers return frozen dataclasses from
`airflow_provider_pgtrickle.types`. Inputs are validated before any SQL is sent; names are
always sent schema-qualified; values are bound parameters and identifiers never come from
user input.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, cast

import psycopg
from airflow.providers.postgres.hooks.postgres import PostgresHook
from psycopg import sql
from psycopg.rows import dict_row

from airflow_provider_pgtrickle import _compat, _health, capabilities
from airflow_provider_pgtrickle._sql import (
    ALTER_ARGS,
    CREATE_OPTIONAL,
    DEPLOY_FIELDS,
    DEPLOY_SNAPSHOT,
    FEATURES,
    SKIP_NOTICE,
    ST_COLUMNS,
    STATS_COLUMNS,
    Row,
    collect_notices,
    named_call,
    query_matches,
    stats_from_row,
    stream_table_from_row,
    strip_query_end,
)
from airflow_provider_pgtrickle._validation import (
    CALCULATED,
    DEFAULT_REFRESH_MODE,
    DEFAULT_SCHEDULE,
    check_arguments,
    qualify,
    qualify_many,
    split_name,
    validate_full_policy,
    validate_positive_int,
    validate_query,
    validate_refresh_mode,
    validate_schedule,
    validate_schema,
)
from airflow_provider_pgtrickle.capabilities import Capabilities, CatalogColumn, Feature, ReadPath
from airflow_provider_pgtrickle.exceptions import (
    PgTrickleConnectionLostError,
    PgTrickleDatabaseError,
    PgTrickleError,
    PgTrickleExtensionMissingError,
    PgTrickleGraphChangedError,
    PgTrickleValidationError,
    StreamTableNotFoundError,
    StreamTableQueryChangeError,
    StreamTableRefreshFailedError,
    StreamTableRefreshPermanentError,
    StreamTableStateError,
    connection_error,
    translate_database_error,
)
from airflow_provider_pgtrickle.types import (
    DependencyEdge,
    DeployOutcome,
    DeployResult,
    ExtensionInfo,
    FullPolicy,
    GraphNodeResult,
    GraphRefreshResult,
    HealthCheck,
    HealthRow,
    HealthSeverity,
    OrchestrationMode,
    QueryChangeClass,
    QueryChangePlan,
    RefreshHistoryEntry,
    RefreshMode,
    RefreshOutcome,
    RefreshPlanEntry,
    RefreshResult,
    StreamTable,
    StreamTableStats,
    StreamTableStatus,
)
from airflow_provider_pgtrickle.vocabulary import failures, lifecycle
from airflow_provider_pgtrickle.vocabulary.config import (
    AUTO_RESOLVES_TO,
    BY_NAME,
    FRESHNESS,
    Surface,
)
from airflow_provider_pgtrickle.vocabulary.health import NEEDS_RECREATION

# What makes pg_trickle repopulate a stream table (src/api/alter.rs): alter arguments, and the
# catalog fields a create-or-replace changes with them (a new partition key, or a query that
# changes the storage's columns, gives a new pgt_relid).
# SQLSTATE of a missing privilege (PostgreSQL errcodes.txt).
_INSUFFICIENT_PRIVILEGE = "42501"
_REPOPULATING_ARGS = frozenset({"query", "refresh_mode", "partition_by"})
_REPOPULATING_FIELDS = (
    "defining_query",
    "original_query",
    "refresh_mode",
    "pgt_relid",
    "topk_order_by",
    "topk_limit",
    "topk_offset",
)

if TYPE_CHECKING:
    from psycopg.errors import Diagnostic


# `get_stats()` where the role may not read `pg_stat_stream_tables` (pg_trickle 0.96.0 and
# later grant it to no role): the same columns, by name, from `st_refresh_stats()` and
# `pgt_status()` (src/monitor/mod.rs, src/api/diagnostics.rs). They carry no pgt_id,
# needs_reinit or cdc_modes: those are NULL here.
_STATS_BY_FUNCTIONS = (
    "SELECT NULL::bigint AS pgt_id, s.pgt_schema, s.pgt_name, s.status, s.refresh_mode,"
    " s.is_populated, p.data_timestamp, s.schedule, now() - s.last_refresh_at AS staleness,"
    " s.stale, s.consecutive_errors, NULL::boolean AS needs_reinit, s.last_refresh_at,"
    " s.total_refreshes, s.successful_refreshes, s.failed_refreshes, s.total_rows_inserted,"
    " s.total_rows_deleted, s.avg_duration_ms, s.last_refresh_action AS last_action,"
    " s.last_refresh_status AS last_status, NULL::text[] AS cdc_modes, s.refresh_tier"
    " FROM pgtrickle.st_refresh_stats() AS s LEFT JOIN pgtrickle.pgt_status() AS p"
    " ON p.name = s.pgt_schema || '.' || s.pgt_name"
)


class PgTrickleHook(PostgresHook):
    """Manage and inspect pg_trickle stream tables through a standard Postgres connection.

    :param postgres_conn_id: id of an Airflow connection of type ``postgres`` (the same one a
        Cosmos profile uses) or ``pgtrickle`` (the same fields, labelled for pg_trickle).
    """

    conn_name_attr = "postgres_conn_id"
    default_conn_name = "postgres_default"
    conn_type = "pgtrickle"
    hook_name = "PostgreSQL with pg_trickle"

    def __init__(self, postgres_conn_id: str = default_conn_name, **kwargs: Any) -> None:
        super().__init__(postgres_conn_id=postgres_conn_id, **kwargs)
        self._connect_lock = threading.Lock()
        self._capabilities: Capabilities | None = None
        self._error_hints: dict[str, str] | None = None

    # Airflow 3.1 builds connection forms from this hook method only; 3.2+ reads the form
    # declared in provider info and deprecates the method, so it exists on 3.1 alone.
    if not _compat.has_airflow(_compat.DECLARATIVE_CONNECTION_FORMS):

        @classmethod
        def get_ui_field_behaviour(cls) -> dict[str, Any]:
            """The `pgtrickle` connection form (as declared in provider info), for Airflow 3.1."""
            return _compat.legacy_field_behaviour(cls.conn_type)

    # -- connections and transactions -------------------------------------------------------

    def get_conn(self) -> Any:
        """A psycopg connection built by `_connect.connection_kwargs`, the triggers' rule too."""
        from copy import deepcopy

        from airflow_provider_pgtrickle import _connect

        conn = deepcopy(self.connection)
        if conn.extra_dejson.get("iam", False):
            conn.login, conn.password, conn.port = self.get_iam_token(conn)
        conn_args = _connect.from_connection(
            conn,
            conn.extra_dejson,
            database=self.database,
            options=self.options,
        )
        raw_cursor = conn.extra_dejson.get("cursor")
        if raw_cursor:
            key, value = self._get_cursor_config(raw_cursor)
            conn_args[key] = value
        self.conn = self._create_connection(conn_args)
        return self.conn

    def new_connection(
        self, *, operation: str = "connect", stream_table: str | None = None
    ) -> psycopg.Connection[Any]:
        """A new psycopg connection (caller closes it); safe to call from worker threads.

        A server that is down or refusing connections raises `PgTrickleConnectionLostError`
        naming ``operation`` and ``stream_table``.
        """
        try:
            with self._connect_lock:
                conn = cast("psycopg.Connection[Any]", self.get_conn())
        except psycopg.Error as error:
            raise connection_error(error, operation=operation, stream_table=stream_table) from error
        conn.add_notice_handler(self._log_notice)
        return conn

    def _log_notice(self, diag: Diagnostic) -> None:
        if diag.message_primary:
            self.log.info("pg_trickle %s: %s", diag.severity, diag.message_primary)

    @contextmanager
    def _transaction(
        self,
        *,
        operation: str,
        stream_table: str | None,
        connection: psycopg.Connection[Any] | None = None,
        refresh_mode: str | None = None,
    ) -> Iterator[psycopg.Cursor[Row]]:
        """One transaction: committed on success, rolled back and translated on failure.

        On a lost connection (server restart, `pg_terminate_backend`, crash) the rollback
        cannot reach the server, and the server rolls back by itself; the error raised is
        then the first one, which carries the server's reason, not the rollback's.
        """
        conn = connection or self.new_connection(operation=operation, stream_table=stream_table)
        committing = False
        try:
            conn.autocommit = False
            with conn.cursor(row_factory=dict_row) as cur:
                try:
                    if operation in lifecycle.LIFECYCLE_FUNCTIONS:
                        # Serialize with our other clients' lifecycle calls until commit:
                        # see vocabulary/lifecycle.py.
                        cur.execute(lifecycle.LOCK_SQL)  # type: ignore[arg-type]
                    yield cur
                    committing = True
                    conn.commit()
                except psycopg.Error as error:
                    self._rollback_quietly(conn)
                    if committing and self._is_lost(conn, error):
                        raise connection_error(
                            error,
                            operation=operation,
                            stream_table=stream_table,
                            during_commit=True,
                        ) from error
                    raise self._translate(
                        error, operation, stream_table, refresh_mode=refresh_mode
                    ) from error
                except BaseException:
                    self._rollback_quietly(conn)
                    raise
        finally:
            if connection is None:
                conn.close()

    @staticmethod
    def _rollback_quietly(conn: psycopg.Connection[Any]) -> None:
        if conn.closed:
            return
        # A rollback that fails means the connection is gone, and so is the transaction.
        with contextlib.suppress(psycopg.Error):
            conn.rollback()

    @staticmethod
    def _is_lost(conn: psycopg.Connection[Any], error: psycopg.Error) -> bool:
        from airflow_provider_pgtrickle.exceptions import is_connection_lost

        return conn.broken or is_connection_lost(error)

    @contextmanager
    def _reader(
        self, *, operation: str, stream_table: str | None = None
    ) -> Iterator[psycopg.Cursor[Row]]:
        """Autocommit cursor: a read is one statement, so no BEGIN/COMMIT round trips."""
        conn = self.new_connection(operation=operation, stream_table=stream_table)
        try:
            conn.autocommit = True
            with conn.cursor(row_factory=dict_row) as cur:
                try:
                    yield cur
                except psycopg.Error as error:
                    raise self._translate(error, operation, stream_table) from error
        finally:
            conn.close()

    def _translate(
        self,
        error: psycopg.Error,
        operation: str,
        stream_table: str | None,
        *,
        refresh_mode: str | None = None,
    ) -> PgTrickleDatabaseError | PgTrickleExtensionMissingError:
        diag = getattr(error, "diag", None)
        # The primary message only: str(error) also carries the CONTEXT line, which names
        # pgtrickle.* for every error raised inside a pg_trickle function.
        primary = ((diag.message_primary if diag else None) or str(error)).strip()
        if _is_missing_extension(primary):
            return PgTrickleExtensionMissingError(
                f"pg_trickle: {operation} failed because the `pg_trickle` extension (or this "
                f"function of it) is missing in database `{self._database_name()}`: "
                f"{primary}; run `CREATE EXTENSION pg_trickle` as a superuser or upgrade it."
            )
        return translate_database_error(
            error, operation=operation, stream_table=stream_table, refresh_mode=refresh_mode
        )

    def _database_name(self) -> str:
        # The database libpq connects to, named by the rule the asset URIs use. This names
        # the database in error messages, which must not fail themselves.
        from airflow_provider_pgtrickle._location import stream_table_location

        try:
            return stream_table_location(self).database
        except PgTrickleValidationError:
            return ""

    # -- lifecycle -----------------------------------------------------------------------------

    def _create_args(
        self,
        name: str,
        *,
        query: str,
        schedule: str | None,
        refresh_mode: RefreshMode | str,
        initialize: bool,
        options: dict[str, Any],
    ) -> dict[str, tuple[Any, str]]:
        mode = validate_refresh_mode(refresh_mode, subject=name)
        # None means CALCULATED here (the vocabulary's schedule grammar); the text is checked
        # with the other arguments below, so its error reads like theirs.
        schedule = CALCULATED if schedule is None else validate_schedule(schedule, subject=name)
        settings = check_arguments(
            name, {"schedule": schedule, "refresh_mode": mode.value, **options}, Surface.CREATE
        )
        # IMMEDIATE tables have no schedule: check_config sends 'calculated' for them, as
        # pg_trickle compares the schedule as raw text on create-or-replace and anything else
        # would be an alter (writing a schedule into an IMMEDIATE table) on every deploy.
        args: dict[str, tuple[Any, str]] = {
            "name": (name, "text"),
            "query": (_query_text(query, subject=name), "text"),
            "schedule": (settings.pop("schedule"), "text"),
            "refresh_mode": (settings.pop("refresh_mode"), "text"),
            "initialize": (bool(initialize), "boolean"),
        }
        self._gate_ownership_arguments(name, settings, schedule=args)
        args.update({key: (value, CREATE_OPTIONAL[key]) for key, value in settings.items()})
        return args

    def _gate_ownership_arguments(
        self, name: str, settings: dict[str, Any], *, schedule: dict[str, tuple[Any, str]] | None
    ) -> None:
        """``orchestration_mode`` and ``target_freshness`` (pg_trickle 0.93.0 / 0.86.0), checked
        before anything is sent: on a server without them, the default ``MANAGED`` is dropped
        (it is what such a server does anyway) and anything else raises
        `PgTrickleFeatureUnavailableError`; ``target_freshness`` replaces the schedule
        (pg_trickle refuses both in one call), so a schedule other than the default is refused
        with it and the schedule is sent as ``calculated``."""
        mode = settings.get("orchestration_mode")
        target = settings.get("target_freshness")
        if mode is None and target is None:
            return
        if target is not None and schedule is not None:
            given = schedule["schedule"][0]
            if given not in (DEFAULT_SCHEDULE, CALCULATED):
                raise PgTrickleValidationError(
                    f"Stream table `{name}`: schedule {given!r} and target_freshness {target!r} "
                    "were both given; pg_trickle takes one or the other. Drop the schedule (or "
                    "the target_freshness) and run again."
                )
        caps = self.capabilities()
        if mode is not None and not caps.has(CatalogColumn.ORCHESTRATION_MODE):
            if mode == BY_NAME["orchestration_mode"].default:
                del settings["orchestration_mode"]
            else:
                caps.require(
                    CatalogColumn.ORCHESTRATION_MODE,
                    subject=f"Stream table `{name}`: orchestration_mode {mode!r}",
                )
        if target is None:
            return
        caps.require(
            CatalogColumn.TARGET_FRESHNESS_MODE,
            subject=f"Stream table `{name}`: target_freshness {target!r}",
        )
        if schedule is not None:
            schedule["schedule"] = (CALCULATED, "text")

    def create_stream_table(
        self,
        name: str,
        query: str,
        *,
        schedule: str | None = DEFAULT_SCHEDULE,
        refresh_mode: RefreshMode | str = DEFAULT_REFRESH_MODE,
        initialize: bool = True,
        **options: Any,
    ) -> None:
        """`pgtrickle.create_stream_table`; fails if the stream table exists.

        ``options`` are further create arguments (``diamond_consistency``, ``cdc_mode``,
        ``append_only``, ``partition_by``, ...); ``None`` values are not sent.
        """
        qualified = qualify(name)
        args = self._create_args(
            qualified,
            query=query,
            schedule=schedule,
            refresh_mode=refresh_mode,
            initialize=initialize,
            options=options,
        )
        statement, params = named_call("create_stream_table", args)
        with self._transaction(
            operation="create_stream_table",
            stream_table=qualified,
            refresh_mode=args["refresh_mode"][0],
        ) as cur:
            cur.execute(statement, params)
        self.log.info("pg_trickle: created stream table %s", qualified)

    def create_or_replace_stream_table(
        self,
        name: str,
        query: str,
        *,
        schedule: str | None = DEFAULT_SCHEDULE,
        refresh_mode: RefreshMode | str = DEFAULT_REFRESH_MODE,
        initialize: bool = True,
        **options: Any,
    ) -> DeployResult:
        """Idempotent deploy through `pgtrickle.create_or_replace_stream_table`.

        Reports whether the stream table was created, altered (with the catalog fields that
        changed) or left unchanged. ``AUTO`` against an existing table keeps the mode
        pg_trickle chose for it (pg_trickle would otherwise try to store AUTO and fail), unless
        the new query cannot be maintained in DIFFERENTIAL mode: the table then goes to FULL,
        as AUTO chooses at create. With
        ``IMMEDIATE`` the schedule is sent as ``'calculated'`` (such tables have none).

        A changed query is applied first, through ``alter_stream_table(query => ...)`` in the
        same transaction: create-or-replace compares a TopK query without its ORDER BY /
        LIMIT / OFFSET and would drop such a change (pg_trickle src/api/create.rs). The
        create-or-replace call after it then only finds settings to change.
        """
        qualified = qualify(name)
        schema, table = split_name(qualified)
        args = self._create_args(
            qualified,
            query=query,
            schedule=schedule,
            refresh_mode=refresh_mode,
            initialize=initialize,
            options=options,
        )
        # create_or_replace_stream_table has no target_freshness (pg_trickle 0.108.3): the
        # table is deployed with the schedule the target implies, and the target is set by an
        # alter in the same transaction when the stored one differs.
        target = args.pop("target_freshness", (None, "text"))[0]
        if target is not None and target not in FRESHNESS.words:
            args["schedule"] = (target, "text")
        if target == FRESHNESS.on_commit:
            args["refresh_mode"] = (RefreshMode.IMMEDIATE.value, "text")
        owned = "orchestration_mode" in args or target is not None
        with self._transaction(
            operation="create_or_replace_stream_table",
            stream_table=qualified,
            refresh_mode=args["refresh_mode"][0],
        ) as cur:
            owner_before = _ownership_snapshot(cur, schema, table) if owned else {}
            before = cur.execute(DEPLOY_SNAPSHOT, [schema, table]).fetchone()
            auto = args["refresh_mode"][0] == RefreshMode.AUTO.value
            if before is not None and auto:
                kept = before["refresh_mode"]
                kept = kept if kept in AUTO_RESOLVES_TO else DEFAULT_REFRESH_MODE
                args["refresh_mode"] = (kept, "text")
            recreated = False
            if before is not None and not query_matches(args["query"][0], before):
                if _query_fits_in_place(cur, before["pgt_relid"], args["query"][0]):
                    statement, params = named_call(
                        "alter_stream_table", {"name": args["name"], "query": args["query"]}
                    )
                    if auto and args["refresh_mode"][0] == RefreshMode.DIFFERENTIAL.value:
                        self._alter_query_as_auto(cur, args, statement, params)
                    else:
                        cur.execute(statement, params)
                else:
                    # pg_trickle 0.67.0 would fill the migrated table by position with the
                    # columns shifted (vocabulary/lifecycle.py, IN_PLACE_QUERY_SQL): drop it, and
                    # create-or-replace below creates it afresh.
                    statement, params = named_call(
                        "drop_stream_table", {"name": args["name"], "cascade": (False, "boolean")}
                    )
                    recreated = True
                    cur.execute(statement, params)
            statement, params = named_call("create_or_replace_stream_table", args)
            cur.execute(statement, params)
            if target is not None:
                now = _ownership_snapshot(cur, schema, table)
                if now.get("target_freshness_mode") != _freshness_mode(target):
                    statement, params = named_call(
                        "alter_stream_table",
                        {"name": args["name"], "target_freshness": (target, "text")},
                    )
                    cur.execute(statement, params)
            owner_after = _ownership_snapshot(cur, schema, table) if owned else {}
            after = cur.execute(DEPLOY_SNAPSHOT, [schema, table]).fetchone()
            repopulated = (
                before is not None
                and after is not None
                and not recreated
                and any(before[f] != after[f] for f in _REPOPULATING_FIELDS)
            )
            if repopulated:
                self._refresh_repopulated_topk(cur, qualified)
        changed: tuple[str, ...] = ()
        if before is None:
            outcome = DeployOutcome.CREATED
        else:
            assert after is not None  # the call succeeded, so the row exists
            changed = tuple(f for f in DEPLOY_FIELDS if before[f] != after[f]) + tuple(
                f for f in owner_after if owner_before.get(f) != owner_after[f]
            )
            outcome = DeployOutcome.ALTERED if changed else DeployOutcome.UNCHANGED
        self.log.info(
            "pg_trickle: stream table %s %s%s",
            qualified,
            outcome.value,
            " (dropped and created: the new query's columns cannot be migrated in place)"
            if recreated
            else "",
        )
        return DeployResult(stream_table=qualified, action=outcome, changed=changed)

    @staticmethod
    def _alter_query_as_auto(
        cur: psycopg.Cursor[Row], args: dict[str, tuple[Any, str]], statement: Any, params: Any
    ) -> None:
        """Replace the query of a DIFFERENTIAL table deployed with ``AUTO`` as AUTO would.

        pg_trickle checks a new query against the STORED mode with AUTO's fallback to FULL off
        (src/api/alter.rs, alter_stream_table_query calls validate_and_parse_query with
        is_auto false), so a query only FULL can maintain fails with 0A000 where a fresh
        AUTO create would have stored FULL. Then, in the same transaction, the mode goes to
        FULL first (any query suits FULL) and the query after it; the create-or-replace call
        that follows is sent FULL too.
        """
        cur.execute("SAVEPOINT pgtrickle_auto_query")
        try:
            cur.execute(statement, params)
        except psycopg.errors.FeatureNotSupported:
            cur.execute("ROLLBACK TO SAVEPOINT pgtrickle_auto_query")
            args["refresh_mode"] = (RefreshMode.FULL.value, "text")
            to_full, full_params = named_call(
                "alter_stream_table", {"name": args["name"], "refresh_mode": args["refresh_mode"]}
            )
            cur.execute(to_full, full_params)
            cur.execute(statement, params)
        cur.execute("RELEASE SAVEPOINT pgtrickle_auto_query")

    def alter_stream_table(
        self,
        name: str,
        *,
        query: str | None = None,
        schedule: str | None = None,
        refresh_mode: RefreshMode | str | None = None,
        status: StreamTableStatus | str | None = None,
        **options: Any,
    ) -> None:
        """`pgtrickle.alter_stream_table` with only the given settings.

        ``status='PAUSED'`` is sent as ``SUSPENDED``; ``refresh_mode='AUTO'`` is refused. Where
        the server has `pgtrickle.pause_stream_table` (0.79.0+; see `capabilities()`),
        SUSPENDED for an ACTIVE table goes through it, after the other settings: it is the call
        upstream grants to `pgtrickle_operator` and the one that marks the table for
        reinitialization. It refuses tables that are not ACTIVE, so those keep the alter call
        (a retry of an already SUSPENDED table stays a no-op).
        Further settings (``tier``, ``cdc_mode``, ``diamond_consistency``, ...) go in
        ``options``. pg_trickle sets a table in ERROR ACTIVE at the end of any alter, after
        applying ``status`` (pg_trickle src/api/alter.rs): for such a table the status goes in
        a second call in the same transaction, so the status asked for is the one it keeps.
        """
        qualified = qualify(name)
        schema, table = split_name(qualified)
        args: dict[str, tuple[Any, str]] = {"name": (qualified, "text")}
        if query is not None:
            args["query"] = (_query_text(query, subject=qualified), "text")
        if refresh_mode is not None:
            # Refused with its own message first: AUTO is fine on create, never on alter.
            validate_refresh_mode(refresh_mode, subject=qualified, for_alter=True)
        given = {"schedule": schedule, "refresh_mode": refresh_mode, "status": status, **options}
        settings = check_arguments(qualified, given, Surface.ALTER)
        if "target_freshness" in settings and "schedule" in settings:
            raise PgTrickleValidationError(
                f"Stream table `{qualified}`: schedule {settings['schedule']!r} and "
                f"target_freshness {settings['target_freshness']!r} were both given; pg_trickle "
                "takes one or the other. Drop one of them and run again."
            )
        self._gate_ownership_arguments(qualified, settings, schedule=None)
        # alter_stream_table has no orchestration_mode: set_orchestration_mode changes it,
        # before the alter when going back to MANAGED (the alter may then ask for IMMEDIATE),
        # after it when going to EXTERNAL.
        mode = settings.pop("orchestration_mode", None)
        args.update({key: (value, ALTER_ARGS[key]) for key, value in settings.items()})
        if len(args) == 1 and mode is not None:
            with self._transaction(
                operation="set_orchestration_mode", stream_table=qualified
            ) as cur:
                self._set_orchestration_mode(cur, qualified, mode)
            self.log.info("pg_trickle: stream table %s orchestration_mode %s", qualified, mode)
            return
        if len(args) == 1:
            raise PgTrickleValidationError(
                f"Stream table `{qualified}`: nothing to alter; pass at least one of "
                f"{', '.join(ALTER_ARGS)}."
            )
        calls = [args]
        mode_sent = args["refresh_mode"][0] if "refresh_mode" in args else None
        with self._transaction(
            operation="alter_stream_table", stream_table=qualified, refresh_mode=mode_sent
        ) as cur:
            if "query" in args:
                self._refuse_rejected_query(cur, qualified, args["query"][0])
                self._refuse_misfilling_query(cur, qualified, args["query"][0])
            if "status" in args:
                if self.capabilities(cur.connection).read_path is ReadPath.FUNCTIONS:
                    row = cur.execute(
                        "SELECT p.status FROM pgtrickle.pgt_status() AS p WHERE p.name = %s",
                        [qualified],
                    ).fetchone()
                else:
                    row = cur.execute(
                        "SELECT status FROM pgtrickle.pgt_stream_tables"
                        " WHERE pgt_schema = %s AND pgt_name = %s",
                        [schema, table],
                    ).fetchone()
                current = row["status"] if row is not None else None
                rest = {key: value for key, value in args.items() if key != "status"}
                # pause_stream_table refuses any table that is not ACTIVE (an INITIALIZING
                # one, or one already SUSPENDED on a retry): those keep the alter path.
                if (
                    args["status"][0] == StreamTableStatus.SUSPENDED.value
                    and current == StreamTableStatus.ACTIVE.value
                    and self.capabilities(cur.connection).has(Feature.PAUSE_STREAM_TABLE)
                ):
                    calls = [rest] if len(rest) > 1 else []
                    calls.append({"pause": args["name"]})
                elif current == StreamTableStatus.ERROR.value:
                    calls = [rest, {"name": args["name"], "status": args["status"]}]
            if mode == "MANAGED":
                self._set_orchestration_mode(cur, qualified, mode)
            for call in calls:
                if "pause" in call:
                    statement, params = named_call("pause_stream_table", {"name": call["pause"]})
                else:
                    statement, params = named_call("alter_stream_table", call)
                cur.execute(statement, params)
                if _REPOPULATING_ARGS & call.keys():
                    self._refresh_repopulated_topk(cur, qualified)
            if mode == "EXTERNAL":
                self._set_orchestration_mode(cur, qualified, mode)
        self.log.info("pg_trickle: altered stream table %s (%s)", qualified, ", ".join(args))

    _EXPLAIN_ALTER_SQL = (
        "SELECT pgtrickle.explain_alter(name => %s::text, new_query => %s::text) AS explained"
    )

    @staticmethod
    def _refresh_repopulated_topk(cur: psycopg.Cursor[Row], qualified: str) -> None:
        """Refresh a TopK table that pg_trickle has just repopulated, in the same transaction.

        A query, refresh-mode or partition-key change repopulates the table from
        defining_query, for a TopK table the query without its ORDER BY / LIMIT / OFFSET
        (pg_trickle src/api/alter.rs, through execute_manual_full_refresh): every row of it
        lands until the next refresh, a TopK MERGE, trims it. pg_trickle refuses to refresh a
        SUSPENDED table, so one stays untrimmed until it is resumed.
        """
        schema, table = split_name(qualified)
        row = cur.execute(
            "SELECT topk_limit IS NOT NULL AND status = 'ACTIVE' AS trim"
            " FROM pgtrickle.pgt_stream_tables WHERE pgt_schema = %s AND pgt_name = %s",
            [schema, table],
        ).fetchone()
        if row is not None and row["trim"]:
            statement, params = named_call("refresh_stream_table", {"name": (qualified, "text")})
            cur.execute(statement, params)

    @staticmethod
    def _query_change_plan(qualified: str, explained: dict[str, Any]) -> QueryChangePlan:
        return QueryChangePlan(
            stream_table=qualified,
            classification=QueryChangeClass(explained["classification"]),
            reason=explained.get("reason"),
            reason_code=explained.get("reason_code"),
        )

    def explain_query_change(self, name: str, query: str) -> QueryChangePlan:
        """How pg_trickle would take ``name``'s defining query being replaced by ``query``
        (``pgtrickle.explain_alter``, 0.91.0+): compatible, rebuildable or rejected, with the
        reason. Changes nothing.

        :raises PgTrickleFeatureUnavailableError: the server has no ``explain_alter``
            (0.67.0), naming the release that brings it.
        """
        qualified = qualify(name)
        text = _query_text(query, subject=qualified)
        with self._reader(operation="explain_alter", stream_table=qualified) as cur:
            self.capabilities(cur.connection).require(
                Feature.EXPLAIN_ALTER, subject=f"Stream table `{qualified}`"
            )
            row = cur.execute(self._EXPLAIN_ALTER_SQL, [qualified, text]).fetchone()
        assert row is not None  # a SELECT without FROM returns one row
        return self._query_change_plan(qualified, row["explained"])

    def _refuse_rejected_query(self, cur: psycopg.Cursor[Any], qualified: str, query: str) -> None:
        """Where pg_trickle can classify a query change (explain_alter, 0.91.0+), ask before
        changing anything and refuse a query it rejects; elsewhere nothing is asked (0.67.0:
        pg_trickle's own error, as before)."""
        if not self.capabilities(cur.connection).has(Feature.EXPLAIN_ALTER):
            return
        row = cur.execute(self._EXPLAIN_ALTER_SQL, [qualified, query]).fetchone()
        if row is None:
            return
        plan = self._query_change_plan(qualified, row["explained"])
        self.log.info(
            "pg_trickle: query change of %s classified %s%s",
            qualified,
            plan.classification.value,
            f" ({plan.reason})" if plan.reason else "",
        )
        if plan.classification is QueryChangeClass.REJECTED:
            raise StreamTableQueryChangeError(
                f"Stream table `{qualified}`: pg_trickle classifies the new query as `rejected`"
                f" ({plan.reason or 'no reason given'}); nothing was changed. Fix the query"
                " (pgtrickle.explain_alter says why).",
                stream_table=qualified,
            )

    @staticmethod
    def _set_orchestration_mode(cur: psycopg.Cursor[Row], qualified: str, mode: str) -> None:
        """`pgtrickle.set_orchestration_mode` (pg_trickle 0.93.0; a no-op when unchanged)."""
        statement, params = named_call(
            "set_orchestration_mode",
            {"stream_table": (qualified, "regclass"), "mode": (mode, "text")},
        )
        cur.execute(statement, params)

    def _refuse_misfilling_query(
        self, cur: psycopg.Cursor[Any], qualified: str, query: str
    ) -> None:
        """Refuse, before any change, a query pg_trickle would migrate in place into the wrong
        columns (vocabulary/lifecycle.py, IN_PLACE_QUERY_SQL); a missing table is left to
        pg_trickle's own error."""
        schema, table = split_name(qualified)
        if self.capabilities(cur.connection).read_path is ReadPath.FUNCTIONS:
            # stream_table_spec(text) (src/api/spec.rs): the storage table's oid, NULL for a
            # name that is no stream table.
            row = cur.execute(
                "SELECT (pgtrickle.stream_table_spec(%s::text) ->> 'oid')::oid AS pgt_relid",
                [qualified],
            ).fetchone()
            if row is not None and (row["pgt_relid"] if isinstance(row, dict) else row[0]) is None:
                row = None
        else:
            row = cur.execute(
                "SELECT pgt_relid FROM pgtrickle.pgt_stream_tables"
                " WHERE pgt_schema = %s AND pgt_name = %s",
                [schema, table],
            ).fetchone()
        if row is None:
            return
        relid = row["pgt_relid"] if isinstance(row, dict) else row[0]
        if not _query_fits_in_place(cur, relid, query):
            raise StreamTableQueryChangeError(
                f"Stream table `{qualified}`: the new query adds a column behind pg_trickle's"
                " helper columns, or renames, reorders or retypes one, which pg_trickle 0.67.0"
                " cannot change in place without filling the wrong columns; nothing was changed."
                " Use create_or_replace_stream_table (it drops and creates the table) or drop and"
                " create it.",
                stream_table=qualified,
            )

    def drop_stream_table(
        self, name: str, *, if_exists: bool = False, cascade: bool = False
    ) -> bool:
        """`pgtrickle.drop_stream_table`; returns whether a stream table was dropped.

        With ``if_exists`` the catalog check and the drop are one statement (pg_trickle's
        drop has no ``if_exists`` of its own); only a drop by another session racing that very
        statement can still end in `StreamTableNotFoundError`, and a retry then converges.
        """
        qualified = qualify(name)
        schema, table = split_name(qualified)
        with self._transaction(operation="drop_stream_table", stream_table=qualified) as cur:
            if if_exists and self.capabilities(cur.connection).read_path is ReadPath.FUNCTIONS:
                # The catalog is not granted (0.96.0 and later): stream_table_spec is NULL for
                # a name that is no stream table.
                cur.execute(
                    "SELECT pgtrickle.drop_stream_table(name => %s::text, cascade => %s::boolean)"
                    " WHERE pgtrickle.stream_table_spec(%s::text) IS NOT NULL",
                    [qualified, bool(cascade), qualified],
                )
                dropped = cur.rowcount > 0
            elif if_exists:
                cur.execute(
                    "SELECT pgtrickle.drop_stream_table(name => %s::text, cascade => %s::boolean)"
                    " FROM pgtrickle.pgt_stream_tables WHERE pgt_schema = %s AND pgt_name = %s",
                    [qualified, bool(cascade), schema, table],
                )
                dropped = cur.rowcount > 0
            else:
                cur.execute(
                    "SELECT pgtrickle.drop_stream_table(name => %s::text, cascade => %s::boolean)",
                    [qualified, bool(cascade)],
                )
                dropped = True
        self.log.info(
            "pg_trickle: stream table %s %s", qualified, "dropped" if dropped else "did not exist"
        )
        return dropped

    def refresh_stream_table(
        self, name: str, *, connection: psycopg.Connection[Any] | None = None
    ) -> RefreshResult:
        """`pgtrickle.refresh_stream_table` in its own transaction.

        Returns the history row the refresh wrote (action, row counts, duration,
        data_timestamp), or action ``skipped`` when pg_trickle reported that another refresh
        of the table was in progress. ``connection`` lets a caller reuse (and cancel) its own
        connection; it is not closed.
        """
        qualified = qualify(name)
        schema, table = split_name(qualified)
        conn = connection or self.new_connection(
            operation="refresh_stream_table", stream_table=qualified
        )
        started = time.monotonic()
        try:
            with (
                collect_notices(conn) as notices,
                self._transaction(
                    operation="refresh_stream_table", stream_table=qualified, connection=conn
                ) as cur,
            ):
                cur.execute("SELECT pgtrickle.refresh_stream_table(%s::text)", [qualified])
                skip = next((m for m in notices if m.startswith(SKIP_NOTICE)), None)
                history = None
                if skip is None:
                    # Our row lock on the stream table is held until commit, so the newest
                    # MANUAL history row of this table is the one this call wrote (on the
                    # read-function path the newest row: no other refresh of the table can
                    # write one before we commit).
                    if self.capabilities(conn).read_path is ReadPath.FUNCTIONS:
                        history = cur.execute(
                            "SELECT h.action, h.rows_inserted, h.rows_deleted, h.data_timestamp"
                            " FROM pgtrickle.get_refresh_history(name => %s::text,"
                            " max_rows => 1) AS h",
                            [qualified],
                        ).fetchone()
                    else:
                        history = cur.execute(
                            "SELECT h.action, h.rows_inserted, h.rows_deleted, h.data_timestamp"
                            " FROM pgtrickle.pgt_refresh_history AS h"
                            " JOIN pgtrickle.pgt_stream_tables AS st ON st.pgt_id = h.pgt_id"
                            " WHERE st.pgt_schema = %s AND st.pgt_name = %s"
                            " AND h.initiated_by = 'MANUAL'"
                            " ORDER BY h.refresh_id DESC LIMIT 1",
                            [schema, table],
                        ).fetchone()
            # Measured here: the history row's start_time and end_time are both the
            # transaction's now(), so its duration always reads 0 ms.
            duration_ms = round((time.monotonic() - started) * 1000.0, 3)
        except PgTrickleDatabaseError as error:
            typed = self._typed_refresh_failure(error, conn)
            if typed is None:
                raise
            raise typed from error
        finally:
            if connection is None:
                conn.close()
        if skip is not None:
            self.log.warning("pg_trickle: %s", skip)
            return RefreshResult(qualified, RefreshOutcome.SKIPPED, message=skip)
        result = RefreshResult(
            stream_table=qualified,
            action=RefreshOutcome.REFRESHED,
            refresh_action=history["action"] if history else None,
            rows_inserted=history["rows_inserted"] if history else None,
            rows_deleted=history["rows_deleted"] if history else None,
            duration_ms=duration_ms,
            data_timestamp=history["data_timestamp"] if history else None,
        )
        self.log.info(
            "pg_trickle: refreshed %s (%s, +%s -%s)",
            qualified,
            result.refresh_action,
            result.rows_inserted,
            result.rows_deleted,
        )
        return result

    # Errors that are not refresh failures: the table is unknown or refused in its status, or
    # the connection died (retried as before, with its own message).
    _NOT_REFRESH_FAILURES = (
        PgTrickleConnectionLostError,
        StreamTableNotFoundError,
        StreamTableStateError,
    )

    def _typed_refresh_failure(
        self, error: PgTrickleDatabaseError, conn: psycopg.Connection[Any]
    ) -> StreamTableRefreshFailedError | None:
        """The refresh failure as a retryable or permanent error, on servers with typed
        refresh errors (``last_error_code``, pg_trickle 0.85.0+); ``None`` elsewhere, where
        every refresh failure stays a plain, retried `PgTrickleDatabaseError` (0.67.0)."""
        if isinstance(error, self._NOT_REFRESH_FAILURES) or conn.closed:
            return None
        if error.sqlstate == _INSUFFICIENT_PRIVILEGE:
            # The connection's role lacks a grant: not the table's failure. The privilege
            # error already names the GRANT to give (`_privileges`); keep it.
            return None
        try:
            caps = self.capabilities(conn)
            hints = self.error_hints(conn) if caps.has(CatalogColumn.LAST_ERROR_CODE) else {}
        except PgTrickleError:
            return None
        finally:
            # The probes may have opened a transaction on a connection the caller reuses
            # (RefreshRunner): end it, so the next refresh starts clean.
            self._rollback_quietly(conn)
        if not caps.has(CatalogColumn.LAST_ERROR_CODE):
            return None
        failure = failures.classify(error.sqlstate, error.server_message)
        hint = hints.get(failure.code.value) or failure.fix
        hint = hint.rstrip(".")
        table = error.stream_table or "pg_trickle"
        detail = error.server_message or "no message"
        state = f"SQLSTATE {error.sqlstate}" if error.sqlstate else "no SQLSTATE"
        if failure.retryable:
            cls: type[StreamTableRefreshFailedError] = StreamTableRefreshFailedError
            outcome = "It is retryable, so Airflow retries the task (refreshing again is safe)"
        else:
            cls = StreamTableRefreshPermanentError
            outcome = (
                "A retry cannot cure it, so the task fails without retrying; "
                "fix the cause, then clear the task"
            )
        return cls(
            f"Stream table `{table}`: refresh_stream_table failed with {failure.code.value} "
            f"({state}): {detail}. Hint: {hint}. {outcome}.",
            error_code=failure.code.value,
            hint=hint,
            sqlstate=error.sqlstate,
            server_message=error.server_message,
            stream_table=error.stream_table,
        )

    def error_hints(self, conn: psycopg.Connection[Any] | None = None) -> dict[str, str]:
        """The server's hint per error code (``pgtrickle.error_catalog()``, 0.96.0+), read once
        per hook; empty where the function does not exist or cannot be read."""
        if self._error_hints is None:
            hints: dict[str, str] = {}
            try:
                if self.capabilities(conn).has(Feature.ERROR_CATALOG):
                    if conn is not None and not conn.closed:
                        with conn.cursor() as cur:
                            rows = cur.execute(
                                "SELECT error_id, hint FROM pgtrickle.error_catalog()"
                            ).fetchall()
                        self._rollback_quietly(conn)
                    else:
                        with self._reader(operation="read pgtrickle.error_catalog") as cur:
                            rows = [
                                (r["error_id"], r["hint"])
                                for r in cur.execute(
                                    "SELECT error_id, hint FROM pgtrickle.error_catalog()"
                                ).fetchall()
                            ]
                    hints = {str(code): str(hint) for code, hint in rows if hint}
            except (psycopg.Error, PgTrickleError) as error:
                self.log.warning("pg_trickle: cannot read error_catalog(): %s", error)
                if conn is not None:
                    self._rollback_quietly(conn)
            self._error_hints = hints
        return self._error_hints

    def orchestration_modes(self) -> dict[str, OrchestrationMode]:
        """Qualified name -> who refreshes it (pg_trickle 0.93.0); empty on older servers,
        where pg_trickle's scheduler refreshes every table."""
        if not self.capabilities().has(CatalogColumn.ORCHESTRATION_MODE):
            return {}
        with self._reader(operation="read orchestration modes") as cur:
            rows = cur.execute(
                "SELECT pgt_schema || '.' || pgt_name AS name, orchestration_mode"
                " FROM pgtrickle.pgt_stream_tables"
            ).fetchall()
        return {r["name"]: OrchestrationMode(r["orchestration_mode"]) for r in rows}

    def refresh_graph_strict(
        self,
        roots: str | Sequence[str],
        *,
        full_policy: FullPolicy | str = FullPolicy.ALLOW,
        expected_graph_digest: str | None = None,
        connection: psycopg.Connection[Any] | None = None,
    ) -> GraphRefreshResult:
        """Refresh ``roots`` and their upstream closure through pg_trickle's strict graph API
        (0.93.0 / 0.94.0): `graph_contract` and `refresh_graph_strict` in ONE transaction,
        committed before returning. Every member must be ``EXTERNAL``. The members are locked
        (waiting, never skipped), checked against the digest just read and refreshed in
        topological order; any failure rolls all of them back. A digest mismatch (the graph
        changed between the two statements) raises `PgTrickleGraphChangedError`.
        ``expected_graph_digest`` (hex, from `graph_contract_digest` read earlier, e.g. by an
        upstream task) pins the graph further back: the refresh fails the same way when the
        graph is no longer that one. ``connection`` lets a caller reuse (and cancel) its own
        connection; it is not closed.
        """
        names = qualify_many(roots, argument="roots")
        if not names:
            raise PgTrickleValidationError(
                "refresh_graph_strict: `roots` is empty; pass at least one stream table."
            )
        policy = validate_full_policy(full_policy, subject="refresh_graph_strict")
        subject = ", ".join(names)
        pinned = _digest_bytes(expected_graph_digest) if expected_graph_digest else None
        caps = self.capabilities(connection)
        caps.require(Feature.GRAPH_CONTRACT, subject=f"Strict graph refresh of {subject}")
        caps.require(Feature.REFRESH_GRAPH_STRICT, subject=f"Strict graph refresh of {subject}")
        try:
            with self._transaction(
                operation="refresh_graph_strict", stream_table=subject, connection=connection
            ) as cur:
                contract = cur.execute(
                    "SELECT graph_digest, contract FROM pgtrickle.graph_contract("
                    "roots => %s::regclass[])",
                    [names],
                ).fetchone()
                assert contract is not None  # a set-returning function of one row
                found = cur.execute(
                    "SELECT graph_refresh_id, graph_digest, source_boundary_digest, node_results"
                    " FROM pgtrickle.refresh_graph_strict(roots => %s::regclass[],"
                    " expected_graph_digest => %s::bytea, full_policy => %s::text)",
                    [names, pinned or contract["graph_digest"], policy.value],
                ).fetchone()
                assert found is not None
        except PgTrickleDatabaseError as error:
            if not (error.server_message or "").startswith("PGT_EXT_CONTRACT_MISMATCH"):
                raise
            raise PgTrickleGraphChangedError(
                f"Strict graph refresh of {subject}: the graph changed since it was read (a "
                "member's query, sources, refresh or orchestration mode, or the membership "
                f"itself): {error.server_message}; nothing was refreshed. Retry the task: it "
                "reads the graph again.",
                sqlstate=error.sqlstate,
                server_message=error.server_message,
                stream_table=subject,
            ) from error
        results = found["node_results"] or {}
        order = contract["contract"].get("topological_order") or []
        nodes = tuple(
            GraphNodeResult(
                stream_table=str(results[str(relid)]["identity"]),
                relid=int(relid),
                result_class=str(results[str(relid)]["result_class"]),
                action=str(results[str(relid)]["action"]),
                rows_inserted=int(results[str(relid)].get("rows_inserted") or 0),
                rows_updated=int(results[str(relid)].get("rows_updated") or 0),
                rows_deleted=int(results[str(relid)].get("rows_deleted") or 0),
                contract_generation=int(results[str(relid)].get("contract_generation") or 0),
            )
            for relid in order
            if str(relid) in results
        )
        result = GraphRefreshResult(
            graph_refresh_id=int(found["graph_refresh_id"]),
            graph_digest=bytes(found["graph_digest"]).hex(),
            source_boundary_digest=bytes(found["source_boundary_digest"]).hex(),
            roots=tuple(names),
            full_policy=policy,
            nodes=nodes,
        )
        self.log.info(
            "pg_trickle: strict graph refresh %s of %s: %s",
            result.graph_refresh_id,
            subject,
            ", ".join(f"{n.stream_table} {n.result_class} ({n.action})" for n in nodes),
        )
        return result

    def graph_contract_digest(self, roots: str | Sequence[str]) -> str:
        """The digest (hex) of `pgtrickle.graph_contract(roots)` (pg_trickle 0.93.0): what a
        later `refresh_graph_strict(..., expected_graph_digest=...)` checks the graph against."""
        names = qualify_many(roots, argument="roots")
        self.capabilities().require(Feature.GRAPH_CONTRACT, subject=f"Graph of {', '.join(names)}")
        with self._reader(operation="graph_contract", stream_table=", ".join(names)) as cur:
            row = cur.execute(
                "SELECT graph_digest FROM pgtrickle.graph_contract(roots => %s::regclass[])",
                [names],
            ).fetchone()
        assert row is not None
        return bytes(row["graph_digest"]).hex()

    def resume_stream_table(self, name: str) -> None:
        """`pgtrickle.resume_stream_table`: SUSPENDED or ERROR back to ACTIVE (no refresh)."""
        qualified = qualify(name)
        with self._transaction(operation="resume_stream_table", stream_table=qualified) as cur:
            cur.execute("SELECT pgtrickle.resume_stream_table(%s::text)", [qualified])
        self.log.info("pg_trickle: resumed stream table %s", qualified)

    # -- readers -------------------------------------------------------------------------------

    def get_stream_table(self, name: str) -> StreamTable | None:
        """The catalog row of one stream table, or ``None`` if it does not exist."""
        found = self.list_stream_tables(names=[name])
        return found[0] if found else None

    def list_stream_tables(
        self, schema: str | None = None, names: Sequence[str] | None = None
    ) -> list[StreamTable]:
        """Catalog rows, optionally only of ``schema`` and/or the given names."""
        where, params = self._filter(schema, names)
        query = sql.SQL(
            "SELECT {} FROM pgtrickle.pgt_stream_tables{} ORDER BY pgt_schema, pgt_name"
        ).format(ST_COLUMNS, where)
        with self._reader(operation="list_stream_tables") as cur:
            return [stream_table_from_row(r) for r in cur.execute(query, params).fetchall()]

    def get_stats(
        self, schema: str | None = None, names: Sequence[str] | None = None
    ) -> list[StreamTableStats]:
        """Rows of the monitoring view `pgtrickle.pg_stat_stream_tables`."""
        where, params = self._filter(schema, names)
        with self._reader(operation="get_stats") as cur:
            if self.capabilities(cur.connection).read_path is ReadPath.FUNCTIONS:
                query = sql.SQL("SELECT * FROM (" + _STATS_BY_FUNCTIONS + ") AS s{} {}").format(
                    where, sql.SQL("ORDER BY pgt_schema, pgt_name")
                )
            else:
                query = sql.SQL(
                    "SELECT {} FROM pgtrickle.pg_stat_stream_tables{} ORDER BY pgt_schema, pgt_name"
                ).format(STATS_COLUMNS, where)
            return [stats_from_row(r) for r in cur.execute(query, params).fetchall()]

    @staticmethod
    def _filter(
        schema: str | None, names: Sequence[str] | None
    ) -> tuple[sql.Composable, list[Any]]:
        clauses: list[sql.Composable] = []
        params: list[Any] = []
        if schema is not None:
            clauses.append(sql.SQL("pgt_schema = %s"))
            params.append(validate_schema(schema))
        if names is not None:
            clauses.append(sql.SQL("pgt_schema || '.' || pgt_name = ANY(%s::text[])"))
            params.append([qualify(n) for n in names])
        if not clauses:
            return sql.SQL(""), params
        return sql.SQL(" WHERE ") + sql.SQL(" AND ").join(clauses), params

    def stream_tables_needing_recreation(self) -> list[str]:
        """Stream tables a pg_trickle upgrade left with row identity V1, which 0.87.16 and
        later reject until the table is dropped and created again (`__pgt_row_id` is not
        ``BYTEA NOT NULL``, upstream's recreation preflight's storage check). Always empty
        on 0.67.0, whose only row identity is V1. One statement."""
        with self._reader(operation="read row identity") as cur:
            if self.capabilities(cur.connection).read_path is not ReadPath.FUNCTIONS:
                return []
            rows = cur.execute(
                "SELECT st.pgt_schema || '.' || st.pgt_name AS name"
                " FROM pgtrickle.st_refresh_stats() AS st WHERE "
                + NEEDS_RECREATION
                + " ORDER BY st.pgt_schema, st.pgt_name"
            ).fetchall()
        return [r["name"] for r in rows]

    def read_path(self) -> ReadPath:
        """How this hook reads pg_trickle's state (`Capabilities.read_path`)."""
        return self.capabilities().read_path

    def health_check(self) -> list[HealthCheck]:
        """`pgtrickle.health_check()` rows in server order."""
        with self._reader(operation="health_check") as cur:
            rows = cur.execute(
                "SELECT check_name, severity, detail FROM pgtrickle.health_check()"
            ).fetchall()
        return [
            HealthCheck(r["check_name"], HealthSeverity(r["severity"]), r["detail"]) for r in rows
        ]

    def get_refresh_history(self, name: str, max_rows: int = 20) -> list[RefreshHistoryEntry]:
        """`pgtrickle.get_refresh_history`, newest first; empty for unknown names."""
        qualified = qualify(name)
        validate_positive_int(max_rows, argument="max_rows", subject=qualified)
        with self._reader(operation="get_refresh_history", stream_table=qualified) as cur:
            rows = cur.execute(
                "SELECT refresh_id, data_timestamp, start_time, end_time, action, status,"
                " rows_inserted, rows_deleted, duration_ms, error_message"
                " FROM pgtrickle.get_refresh_history(%s::text, %s::integer)",
                [qualified, max_rows],
            ).fetchall()
        return [RefreshHistoryEntry(**r) for r in rows]

    def dependency_graph(self) -> list[DependencyEdge]:
        """Every (stream table, source) edge of `pgtrickle.pgt_dependencies`."""
        with self._reader(operation="dependency_graph") as cur:
            if self.capabilities(cur.connection).read_path is ReadPath.FUNCTIONS:
                # One `list_sources` call per stream table: the graph covers them all.
                rows = cur.execute(
                    "SELECT s.pgt_schema || '.' || s.pgt_name AS stream_table,"
                    " l.source_table AS source, l.source_type, l.cdc_mode"
                    " FROM pgtrickle.st_refresh_stats() AS s CROSS JOIN LATERAL"
                    " pgtrickle.list_sources(name => s.pgt_schema || '.' || s.pgt_name) AS l"
                    " ORDER BY 1, 2"
                ).fetchall()
                return [DependencyEdge(**r) for r in rows]
            rows = cur.execute(
                "SELECT st.pgt_schema || '.' || st.pgt_name AS stream_table,"
                " COALESCE(n.nspname || '.' || c.relname, d.source_relid::text) AS source,"
                " d.source_type, d.cdc_mode"
                " FROM pgtrickle.pgt_dependencies AS d"
                " JOIN pgtrickle.pgt_stream_tables AS st ON st.pgt_id = d.pgt_id"
                " LEFT JOIN pg_catalog.pg_class AS c ON c.oid = d.source_relid"
                " LEFT JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace"
                " ORDER BY 1, 2"
            ).fetchall()
        return [DependencyEdge(**r) for r in rows]

    def refresh_plan(self) -> list[RefreshPlanEntry]:
        """Every stream table with its status and upstream stream tables, in one query."""
        with self._reader(operation="read refresh plan") as cur:
            if self.capabilities(cur.connection).read_path is ReadPath.FUNCTIONS:
                rows = cur.execute(
                    "SELECT s.pgt_schema || '.' || s.pgt_name AS name, s.status,"
                    " ARRAY(SELECT l.source_table FROM pgtrickle.list_sources("
                    "name => s.pgt_schema || '.' || s.pgt_name) AS l"
                    "       WHERE l.source_type = 'STREAM_TABLE' ORDER BY 1) AS upstream"
                    " FROM pgtrickle.st_refresh_stats() AS s ORDER BY s.pgt_schema, s.pgt_name"
                ).fetchall()
                return [
                    RefreshPlanEntry(
                        r["name"], StreamTableStatus(r["status"]), tuple(r["upstream"])
                    )
                    for r in rows
                ]
            rows = cur.execute(
                "SELECT st.pgt_schema || '.' || st.pgt_name AS name, st.status,"
                " ARRAY(SELECT up.pgt_schema || '.' || up.pgt_name"
                "       FROM pgtrickle.pgt_dependencies AS d"
                "       JOIN pgtrickle.pgt_stream_tables AS up ON up.pgt_relid = d.source_relid"
                "       WHERE d.pgt_id = st.pgt_id AND d.source_type = 'STREAM_TABLE'"
                "       ORDER BY 1) AS upstream"
                " FROM pgtrickle.pgt_stream_tables AS st ORDER BY st.pgt_schema, st.pgt_name"
            ).fetchall()
        return [
            RefreshPlanEntry(r["name"], StreamTableStatus(r["status"]), tuple(r["upstream"]))
            for r in rows
        ]

    def fetch_health(self, names: Sequence[str] = (), schema: str | None = None) -> list[HealthRow]:
        """The health sensor's single query (see `airflow_provider_pgtrickle._health`)."""
        with self._reader(operation="read stream table health") as cur:
            caps = self.capabilities(cur.connection)
            query, params = _health.health_query(
                names, schema, read_path=caps.read_path, freshness=caps.has(Feature.FRESHNESS)
            )
            cur.row_factory = psycopg.rows.tuple_row  # type: ignore[assignment]
            rows = cur.execute(query, params).fetchall()
        return _health.rows_to_health(cast("list[Sequence[Any]]", rows))

    # -- version and features ------------------------------------------------------------------

    def extension_version(self) -> str | None:
        """`extversion` of pg_trickle in this database, or ``None`` when not installed."""
        with self._reader(operation="extension_version") as cur:
            row = cur.execute(
                "SELECT extversion FROM pg_catalog.pg_extension WHERE extname = 'pg_trickle'"
            ).fetchone()
        return row["extversion"] if row else None

    def extension_info(self) -> ExtensionInfo:
        """Installed version, loaded library version and which API functions exist."""
        with self._reader(operation="extension_info") as cur:
            row = cur.execute(
                "SELECT (SELECT extversion FROM pg_catalog.pg_extension"
                "        WHERE extname = 'pg_trickle') AS extversion,"
                " ARRAY(SELECT DISTINCT p.proname::text FROM pg_catalog.pg_proc AS p"
                "       JOIN pg_catalog.pg_namespace AS n ON n.oid = p.pronamespace"
                "       WHERE n.nspname = 'pgtrickle' AND p.proname = ANY(%s::text[])"
                "       ORDER BY 1) AS features",
                [list(FEATURES)],
            ).fetchone()
            assert row is not None  # a SELECT without FROM returns exactly one row
            if row["extversion"] is None:
                raise PgTrickleExtensionMissingError(
                    f"pg_trickle: the `pg_trickle` extension is not installed in database "
                    f"`{self._database_name()}`; run `CREATE EXTENSION pg_trickle` as a superuser."
                )
            library = None
            if "version" in row["features"]:
                library = cur.execute("SELECT pgtrickle.version() AS v").fetchone()["v"]  # type: ignore[index]
        return ExtensionInfo(row["extversion"], library, tuple(row["features"]))

    def capabilities(self, conn: psycopg.Connection[Any] | None = None) -> Capabilities:
        """What the server offers (`airflow_provider_pgtrickle.capabilities`): probed in one
        round trip on first use (on ``conn`` when given, so a method that already holds a
        connection opens no second one), then cached for this hook. A version outside the
        tested range is logged once, as a warning."""
        if self._capabilities is None:
            if conn is not None:
                found = capabilities.probe(conn)
            else:
                with self._reader(operation="probe pg_trickle capabilities") as cur:
                    found = capabilities.probe(cur.connection)
            warning = found.unsupported_warning()
            if warning:
                self.log.warning("pg_trickle: %s", warning)
            self._capabilities = found
        return self._capabilities

    def has_feature(self, function: str) -> bool:
        """Whether `pgtrickle.<function>` exists (feature detection by probing `pg_proc`)."""
        if function not in FEATURES:
            raise PgTrickleValidationError(
                f"Feature `{function}` is not one the provider probes; accepted: "
                f"{', '.join(FEATURES)}."
            )
        return self.extension_info().supports(function)

    def test_connection(self) -> tuple[bool, str]:  # type: ignore[override]
        """Check the connection, the extension, its version and this role's privileges.

        Fails (``False``) with what is missing when pg_trickle is not installed, older than
        the version the provider is built for, or its schema, catalog or functions are out of
        this role's reach; every missing privilege is named in one message.
        """
        from airflow_provider_pgtrickle import _privileges

        try:
            with self._reader(operation="test_connection") as cur:
                row = cur.execute(_privileges.QUERY).fetchone()
        except PgTrickleError as error:
            return False, f"Connection failed: {error}"
        assert row is not None  # a SELECT without FROM returns exactly one row
        database, role = self._database_name() or row["database"], row["role"]
        version = row["version"]
        if version is None:
            return (
                False,
                f"Connected to database `{database}` as `{role}`, but the `pg_trickle` "
                "extension is NOT installed there; run `CREATE EXTENSION pg_trickle` as a "
                "superuser.",
            )
        ok, message = _privileges.verdict(row, database)
        if ok and capabilities.version_key(version) < capabilities.version_key(SUPPORTED_VERSION):
            return (
                False,
                f"Connected to database `{database}` as `{role}`; pg_trickle {version} is "
                f"older than {SUPPORTED_VERSION}, the oldest version this provider supports "
                f"(tested: {capabilities.supported_text()}); run "
                "`ALTER EXTENSION pg_trickle UPDATE`.",
            )
        if not ok:
            return ok, message
        try:
            note = self.capabilities().support_note()
        except PgTrickleError as error:
            return False, f"Connection failed: {error}"
        # "pg_trickle X is installed" -> "pg_trickle X is installed (supported)"
        installed = f"pg_trickle {version} is installed"
        return True, message.replace(installed, f"{installed} ({note})", 1)


def _digest_bytes(value: str) -> bytes:
    """A graph digest given as hex (what `graph_contract_digest` returns)."""
    try:
        return bytes.fromhex(value)
    except (TypeError, ValueError):
        raise PgTrickleValidationError(
            f"expected_graph_digest {value!r} is not a hex digest; pass what "
            "PgTrickleHook.graph_contract_digest() returned."
        ) from None


_FRESHNESS_MODES = {FRESHNESS.manual: "MANUAL", FRESHNESS.on_commit: "ON_COMMIT"}


def _freshness_mode(target: str) -> str:
    """The catalog's `target_freshness_mode` for a canonical target_freshness."""
    return _FRESHNESS_MODES.get(target, "INTERVAL")


def _ownership_snapshot(cur: psycopg.Cursor[Any], schema: str, table: str) -> dict[str, Any]:
    """`orchestration_mode` and `target_freshness_mode` of one stream table (pg_trickle
    0.93.0 / 0.86.0 columns; the callers only ask on servers that have them)."""
    row = cur.execute(
        "SELECT orchestration_mode, target_freshness_mode FROM pgtrickle.pgt_stream_tables"
        " WHERE pgt_schema = %s AND pgt_name = %s",
        [schema, table],
    ).fetchone()
    if row is None:
        return {}
    return (
        dict(row)
        if isinstance(row, dict)
        else dict(zip(("orchestration_mode", "target_freshness_mode"), row, strict=True))
    )


def _query_fits_in_place(cur: psycopg.Cursor[Any], storage: int, query: str) -> bool:
    """Whether pg_trickle can change the stream table stored in ``storage`` (its OID) to
    ``query`` in place and fill the right columns (vocabulary/lifecycle.py, IN_PLACE_QUERY_SQL).

    The query's columns come from running it with no rows (`LIMIT 0`), as dbt reads a model's
    columns; it is the user's query (which pg_trickle runs anyway), never a value. Prepared, so
    it is one statement: a text that closes the parenthesis and appends another is refused."""
    cur.execute(
        sql.SQL("SELECT * FROM (\n{}\n) AS __pgt_probe LIMIT 0").format(
            sql.SQL(query)  # type: ignore[arg-type]
        ),
        prepare=True,
    )
    columns = cur.description or []
    statement = lifecycle.IN_PLACE_QUERY_SQL.replace("%", "%%").format(
        storage="%s::oid",
        new_columns="SELECT t.ord AS attnum, t.name, t.typ"
        " FROM unnest(%s::text[], %s::oid[]) WITH ORDINALITY AS t(name, typ, ord)",
    )
    row = cur.execute(
        statement,  # type: ignore[arg-type]
        [storage, [c.name for c in columns], [c.type_code for c in columns]],
    ).fetchone()
    return bool(row and (row["in_place"] if isinstance(row, dict) else row[0]))


def _query_text(query: object, *, subject: str) -> str:
    """The query as sent: validated, without trailing semicolons and comments (pg_trickle
    embeds it in its own SQL, where those break it; see `strip_query_end`)."""
    text = strip_query_end(validate_query(query, subject=subject))
    if not text:
        raise PgTrickleValidationError(
            f"Stream table `{subject}`: query {query!r} has no statement, only semicolons or "
            "comments; pass a SELECT statement."
        )
    return text


# The oldest pg_trickle version the provider supports (the range: `capabilities.SUPPORTED`).
SUPPORTED_VERSION = capabilities.OLDEST_SUPPORTED


def _is_missing_extension(message: str) -> bool:
    """True for the server's words for an absent `pgtrickle` schema, function or relation."""
    return (
        message.startswith('schema "pgtrickle" does not exist')
        or (message.startswith("function pgtrickle.") and message.endswith("does not exist"))
        or (message.startswith('relation "pgtrickle.') and message.endswith("does not exist"))
    )
