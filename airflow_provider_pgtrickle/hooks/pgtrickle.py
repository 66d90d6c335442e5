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
    validate_positive_int,
    validate_query,
    validate_refresh_mode,
    validate_schedule,
    validate_schema,
)
from airflow_provider_pgtrickle.capabilities import Capabilities, Feature
from airflow_provider_pgtrickle.exceptions import (
    PgTrickleDatabaseError,
    PgTrickleError,
    PgTrickleExtensionMissingError,
    PgTrickleValidationError,
    StreamTableQueryChangeError,
    connection_error,
    translate_database_error,
)
from airflow_provider_pgtrickle.types import (
    DependencyEdge,
    DeployOutcome,
    DeployResult,
    ExtensionInfo,
    HealthCheck,
    HealthRow,
    HealthSeverity,
    RefreshHistoryEntry,
    RefreshMode,
    RefreshOutcome,
    RefreshPlanEntry,
    RefreshResult,
    StreamTable,
    StreamTableStats,
    StreamTableStatus,
)
from airflow_provider_pgtrickle.vocabulary import lifecycle
from airflow_provider_pgtrickle.vocabulary.config import AUTO_RESOLVES_TO, Surface

# What makes pg_trickle repopulate a stream table (src/api/alter.rs): alter arguments, and the
# catalog fields a create-or-replace changes with them (a new partition key, or a query that
# changes the storage's columns, gives a new pgt_relid).
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
        from airflow_provider_pgtrickle.assets import stream_table_location

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
        args.update({key: (value, CREATE_OPTIONAL[key]) for key, value in settings.items()})
        return args

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
        with self._transaction(
            operation="create_or_replace_stream_table",
            stream_table=qualified,
            refresh_mode=args["refresh_mode"][0],
        ) as cur:
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
            changed = tuple(f for f in DEPLOY_FIELDS if before[f] != after[f])
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
        args.update({key: (value, ALTER_ARGS[key]) for key, value in settings.items()})
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
                self._refuse_misfilling_query(cur, qualified, args["query"][0])
            if "status" in args:
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
            for call in calls:
                if "pause" in call:
                    statement, params = named_call("pause_stream_table", {"name": call["pause"]})
                else:
                    statement, params = named_call("alter_stream_table", call)
                cur.execute(statement, params)
                if _REPOPULATING_ARGS & call.keys():
                    self._refresh_repopulated_topk(cur, qualified)
        self.log.info("pg_trickle: altered stream table %s (%s)", qualified, ", ".join(args))

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
    def _refuse_misfilling_query(cur: psycopg.Cursor[Any], qualified: str, query: str) -> None:
        """Refuse, before any change, a query pg_trickle would migrate in place into the wrong
        columns (vocabulary/lifecycle.py, IN_PLACE_QUERY_SQL); a missing table is left to
        pg_trickle's own error."""
        schema, table = split_name(qualified)
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
            if if_exists:
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
                    # MANUAL history row of this table is the one this call wrote.
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
        query = sql.SQL(
            "SELECT {} FROM pgtrickle.pg_stat_stream_tables{} ORDER BY pgt_schema, pgt_name"
        ).format(STATS_COLUMNS, where)
        with self._reader(operation="get_stats") as cur:
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
        query, params = _health.health_query(names, schema)
        with self._reader(operation="read stream table health") as cur:
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

    def check_names(self, names: Sequence[str]) -> list[str]:
        """Validate and qualify names (no SQL).

        Deprecated (warns; to be removed): every hook method, operator and the sensor validate
        and qualify the names they are given before sending anything; pass names to them.
        """
        import warnings

        warnings.warn(
            "PgTrickleHook.check_names() is deprecated and will be removed; the hook's methods, "
            "the operators and the sensor validate and qualify names themselves: pass the names "
            "to them directly.",
            DeprecationWarning,
            stacklevel=2,
        )
        return qualify_many(names, argument="stream_tables")


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
