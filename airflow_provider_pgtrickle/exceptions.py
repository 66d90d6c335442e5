"""Every exception the provider raises.

Hierarchy::

    PgTrickleError (AirflowException)
    ├── PgTrickleValidationError (also ValueError): bad input, raised before any SQL is sent
    ├── PgTrickleExtensionMissingError: `pg_trickle` is not installed in the database
    ├── PgTrickleDatabaseError: the server rejected a pgtrickle call (carries `sqlstate`
    │   and the server's `server_message`)
    │   ├── StreamTableNotFoundError (42P01; also a PgTrickleUnhealthyError, so no retry)
    │   ├── StreamTableAlreadyExistsError (42P07)
    │   ├── PgTrickleInvalidArgumentError (22023, `invalid argument: ...`)
    │   │   ├── StreamTableStateError: refresh/resume refused in the current status
    │   │   └── StreamTableDependencyError: drop refused because of dependent stream tables
    │   ├── PgTrickleUnsupportedQueryError (0A000 / 42000: the query cannot be maintained)
    │   ├── StreamTableLockedError (55P03 / 40P01: a lock was not available)
    │   └── PgTrickleConnectionLostError: the connection could not be opened or was lost
    │       (server restart, `pg_terminate_backend`, crash); the transaction did not commit
    │       (unless it was lost during COMMIT itself); retrying converges
    ├── PgTrickleRefreshError: the refresh operator finished with failed tables
    ├── PgTrickleUnhealthyError (AirflowFailException): the health sensor saw ERROR/SUSPENDED
    │   tables; retrying would not help. Unknown stream tables raise StreamTableNotFoundError,
    │   which is also one of these.
    ├── PgTrickleSourcesUncheckableError (AirflowFailException): `wait_for_sources` cannot
    │   judge a table (a missing grant on the change buffers, a WAL-captured source)
    ├── PgTrickleSensorTimeout (AirflowSensorTimeout): the health sensor ran out of time
    ├── PgTrickleConnectionError (AirflowFailException): the server refused the connection
    │   for good (bad password, unknown database or role, no permission); waiting would not help
    ├── PgTrickleTestServerError: the throwaway test server (`testing`) could not start
    ├── PgTrickleAirflowVersionError (AirflowFailException): a feature needs a newer Airflow
    │   than the one running
    └── PgTrickleFeatureUnavailableError (AirflowFailException): the connected pg_trickle
        lacks a function or catalog column the call needs (named, with the release bringing it)

Messages name the object in backticks and end with the fix. Every message goes through
Airflow's secrets masker, so a value that equals a connection secret (say, a templated name
rendered from a password) never appears in an error, a log or a traceback.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from airflow.sdk.exceptions import AirflowException

from airflow_provider_pgtrickle import _compat
from airflow_provider_pgtrickle._compat import AirflowFailException, AirflowSensorTimeout

if TYPE_CHECKING:
    import psycopg


def mask_secrets(text: str) -> str:
    """``text`` with every secret Airflow's masker knows (connection passwords, ...) as ``***``."""
    try:
        from airflow.sdk._shared.secrets_masker import redact
    except ImportError:  # pragma: no cover - every supported Airflow has it
        return text
    masked = redact(text)
    return masked if isinstance(masked, str) else text


class PgTrickleError(AirflowException):
    """Base class of every error raised by airflow-provider-pgtrickle."""

    def __init__(self, *args: object) -> None:
        super().__init__(*(mask_secrets(a) if isinstance(a, str) else a for a in args))


class PgTrickleValidationError(PgTrickleError, ValueError):
    """An argument failed validation; nothing was sent to the database."""


class PgTrickleExtensionMissingError(PgTrickleError):
    """The `pg_trickle` extension is not installed in the target database."""


class PgTrickleDatabaseError(PgTrickleError):
    """The server rejected a pgtrickle call; the transaction was rolled back.

    :ivar sqlstate: the server's SQLSTATE (``None`` for client-side failures)
    :ivar server_message: the server's primary message, unchanged
    :ivar stream_table: the schema-qualified stream table the call was about, if any
    """

    def __init__(
        self,
        message: str,
        *,
        sqlstate: str | None = None,
        server_message: str | None = None,
        stream_table: str | None = None,
    ) -> None:
        super().__init__(message)
        self.sqlstate = sqlstate
        self.server_message = None if server_message is None else mask_secrets(server_message)
        self.stream_table = stream_table


class StreamTableAlreadyExistsError(PgTrickleDatabaseError):
    """A stream table (or relation) of that name already exists."""


class PgTrickleInvalidArgumentError(PgTrickleDatabaseError):
    """The server rejected an argument (`invalid argument: ...`)."""


class StreamTableStateError(PgTrickleInvalidArgumentError):
    """The call is not allowed in the stream table's current status."""


class StreamTableDependencyError(PgTrickleInvalidArgumentError):
    """Other stream tables depend on this one."""


class PgTrickleUnsupportedQueryError(PgTrickleDatabaseError):
    """The defining query cannot be parsed or maintained in the requested mode."""


class StreamTableQueryChangeError(PgTrickleUnsupportedQueryError):
    """A new query pg_trickle 0.67.0 would migrate in place into the wrong columns (a column
    added, renamed, reordered or retyped); refused after reading the catalog, nothing changed."""


class StreamTableLockedError(PgTrickleDatabaseError):
    """A lock needed by the call was not available."""


class PgTrickleConnectionLostError(PgTrickleDatabaseError):
    """The connection could not be opened or was lost; the call's outcome is in the message.

    Unlike `PgTrickleConnectionError` (the health sensor's verdict that a refusal will not
    cure itself), this one is raised by any hook call, and an Airflow retry is the remedy.
    """


class PgTrickleRefreshError(PgTrickleError):
    """One or more stream tables failed to refresh (the others were refreshed).

    :ivar results: the per-table results (JSON-native dicts), failed ones included
    """

    def __init__(self, message: str, results: list[dict[str, object]]) -> None:
        super().__init__(message)
        self.results = results


class PgTrickleUnhealthyError(PgTrickleError, AirflowFailException):
    """The health sensor found tables in ERROR or SUSPENDED, or names not in the catalog."""


class StreamTableNotFoundError(PgTrickleDatabaseError, PgTrickleUnhealthyError):
    """The named stream table is not in the pg_trickle catalog (SQLSTATE 42P01).

    The one error for an unknown stream table, whoever finds out: the hook and the operators
    (the server's 42P01, or a name missing from the catalog) and the health sensor, poking or
    deferred. It is an `AirflowFailException`, because a retry cannot make the name exist, and
    a `PgTrickleUnhealthyError`, so code written for the sensor's earlier error for unknown
    names (``except PgTrickleUnhealthyError``) keeps catching it.
    """


class PgTrickleSourcesUncheckableError(PgTrickleError, AirflowFailException):
    """``wait_for_sources`` cannot judge a stream table: the role lacks a privilege on the
    change buffers, or a source is captured from the WAL. Waiting would not help.

    :ivar stream_table: the schema-qualified stream table concerned
    """

    def __init__(self, message: str, *, stream_table: str) -> None:
        super().__init__(message)
        self.stream_table = stream_table


class PgTrickleSensorTimeout(PgTrickleError, AirflowSensorTimeout):
    """The health sensor's deadline passed before every table was healthy."""


class PgTrickleConnectionError(PgTrickleError, AirflowFailException):
    """The server refused the connection in a way waiting cannot cure.

    :ivar conn_id: the Airflow connection used
    :ivar server_message: the server's (or libpq's) text, unchanged
    """

    def __init__(self, message: str, *, conn_id: str, server_message: str) -> None:
        super().__init__(message)
        self.conn_id = conn_id
        self.server_message = server_message


class PgTrickleTestServerError(PgTrickleError):
    """The throwaway PostgreSQL test server (`airflow_provider_pgtrickle.testing`) failed."""


class PgTrickleAirflowVersionError(PgTrickleError, AirflowFailException):
    """A feature needs a newer Airflow than the running one; retrying would not help."""


class PgTrickleFeatureUnavailableError(PgTrickleError, AirflowFailException):
    """The connected pg_trickle lacks a function or catalog column the call needs (see
    `airflow_provider_pgtrickle.capabilities`); the message names it and the release that
    brought it. Retrying would not help."""


def _dotted(version: tuple[int, ...]) -> str:
    return ".".join(str(p) for p in version)


def require_airflow(
    feature: str, needed: tuple[int, ...], *, running: tuple[int, int, int] | None = None
) -> None:
    """Raise `PgTrickleAirflowVersionError` when ``feature`` needs a newer Airflow.

    ``running`` defaults to the running Airflow's version (tests pass a made-up one). It lives
    here, beside the error it raises, so that `_compat` imports nothing of the provider.
    """
    have = _compat.AIRFLOW_VERSION if running is None else running
    if not _compat.has_airflow(needed, running=have):
        raise PgTrickleAirflowVersionError(
            f"`{feature}` needs Airflow {_dotted(needed)} or later, but this is Airflow "
            f"{_dotted(have)}; upgrade Airflow to {_dotted(needed)} or later "
            f"(`pip install 'apache-airflow>={_dotted(needed)}'`)."
        )


# Every module of the provider imports this one, so an install that bypassed the declared
# `apache-airflow` range (`--no-deps`, a hand-built image) fails here with a clear message
# rather than on some missing Airflow name later.
require_airflow("airflow-provider-pgtrickle", _compat.MIN_AIRFLOW)


_SQLSTATE_CLASSES: dict[str, type[PgTrickleDatabaseError]] = {
    "42P01": StreamTableNotFoundError,
    "42P07": StreamTableAlreadyExistsError,
    "22023": PgTrickleInvalidArgumentError,
    "0A000": PgTrickleUnsupportedQueryError,
    "42000": PgTrickleUnsupportedQueryError,
    "42601": PgTrickleUnsupportedQueryError,
    "55P03": StreamTableLockedError,
    "40P01": StreamTableLockedError,
}

_OWN_PREFIXES: dict[type[PgTrickleDatabaseError], str] = {
    StreamTableNotFoundError: "stream table not found:",
    StreamTableAlreadyExistsError: "stream table already exists:",
}

_FIXES: dict[type[PgTrickleDatabaseError], str] = {
    StreamTableNotFoundError: "check the name (schema-qualified, lower case) or create it first",
    StreamTableAlreadyExistsError: (
        "drop it first or use `create_or_replace_stream_table` for an idempotent deploy"
    ),
    PgTrickleInvalidArgumentError: "fix the argument named in the server message",
    StreamTableStateError: (
        "resume it with `PgTrickleResumeOperator` (or `pgtrickle.resume_stream_table`) first"
    ),
    StreamTableDependencyError: "drop the dependent stream tables first or pass `cascade=True`",
    PgTrickleUnsupportedQueryError: (
        "rewrite the query or use `refresh_mode='FULL'` (see the pg_trickle SQL reference)"
    ),
    StreamTableLockedError: "retry when the concurrent operation on it has finished",
    PgTrickleConnectionLostError: "retry the task when the server is back (retrying is safe)",
    PgTrickleDatabaseError: "fix the cause the server names and retry",
}

# Advice by SQLSTATE class for errors that have no class of their own.
_FIXES_BY_CLASS: dict[str, str] = {
    "42501": (
        "grant the connection's role the privilege the server names (see `test_connection()`)"
    ),
    "53": "the server is out of a resource; retry later or raise its limits",
    "54": "the statement exceeds a server limit; simplify the query",
    "57014": (
        "the statement was cancelled (statement_timeout, lock_timeout or a cancel request); "
        "retry or raise the timeout"
    ),
    "22003": "a value is out of range for its type; pass a smaller value",
    "23": "the data violates a constraint; fix the data or the query",
}

# SQLSTATEs of a connection that is going away: admin shutdown, crash shutdown, cannot
# connect now, and the whole connection-exception class 08.
_CONNECTION_SQLSTATES = ("57P01", "57P02", "57P03", "08")


def is_connection_lost(error: BaseException) -> bool:
    """Whether ``error`` means the connection failed or died (not that the statement did)."""
    import psycopg

    sqlstate = getattr(error, "sqlstate", None) or ""
    if any(sqlstate.startswith(code) for code in _CONNECTION_SQLSTATES):
        return True
    # psycopg's own "the connection is lost" / "connection failed" / "server closed the
    # connection unexpectedly" errors have no SQLSTATE.
    return isinstance(error, psycopg.OperationalError) and not sqlstate


def connection_error(
    error: BaseException,
    *,
    operation: str,
    stream_table: str | None,
    during_commit: bool = False,
) -> PgTrickleConnectionLostError:
    """A `PgTrickleConnectionLostError` naming the operation, the table and the reason."""
    diag = getattr(error, "diag", None)
    reason = ((diag.message_primary if diag else None) or str(error)).strip()
    # psycopg's multi-line connection texts: the last non-empty line is the reason.
    lines = [line.strip() for line in reason.splitlines() if line.strip()]
    reason = "; ".join(lines) or type(error).__name__
    subject = f"Stream table `{stream_table}`" if stream_table else "pg_trickle"
    outcome = (
        "the connection was lost during COMMIT, so whether it took effect is unknown"
        if during_commit
        else "nothing of it was committed"
    )
    return PgTrickleConnectionLostError(
        f"{subject}: {operation} failed because the connection to the server failed or was "
        f"lost ({reason}); {outcome}; {_FIXES[PgTrickleConnectionLostError]}.",
        sqlstate=getattr(error, "sqlstate", None),
        server_message=reason,
        stream_table=stream_table,
    )


def _privilege_fix(server_message: str, operation: str) -> str | None:
    """Advice naming the GRANT for a denial on one of pg_trickle's objects."""
    from airflow_provider_pgtrickle._privileges import grant_for_denial

    grant = grant_for_denial(server_message, operation)
    if grant is None:
        return None
    return (
        f"as pg_trickle's owner run `{grant}` for the connection's role "
        "(docs/roles-and-grants.md; `test_connection()` lists every missing grant)"
    )


def translate_database_error(
    error: psycopg.Error,
    *,
    operation: str,
    stream_table: str | None,
    refresh_mode: str | None = None,
) -> PgTrickleDatabaseError:
    """Map a psycopg error raised by a pgtrickle call to the provider's hierarchy.

    :param refresh_mode: the mode the call asked for, when it asked for one: advice to switch
        to FULL is not given to a call that already uses FULL.
    """
    if is_connection_lost(error):
        return connection_error(error, operation=operation, stream_table=stream_table)
    diag = getattr(error, "diag", None)
    sqlstate = getattr(error, "sqlstate", None) or (diag.sqlstate if diag else None)
    server_message = ((diag.message_primary if diag else None) or str(error)).strip()
    cls = _SQLSTATE_CLASSES.get(sqlstate or "", PgTrickleDatabaseError)
    # 42P01 and 42P07 are also PostgreSQL's own codes (a source table the query reads is
    # missing, a plain table already has the name): only pg_trickle's own texts make them
    # about the stream table itself.
    prefix = _OWN_PREFIXES.get(cls)
    if prefix is not None and not server_message.startswith(prefix):
        cls = PgTrickleDatabaseError
    if cls is PgTrickleInvalidArgumentError:
        if "has dependent stream tables" in server_message:
            cls = StreamTableDependencyError
        elif "resume_stream_table" in server_message or "not suspended" in server_message:
            cls = StreamTableStateError
    fix = _FIXES[cls]
    if cls is StreamTableStateError and "not suspended" in server_message:
        fix = "it is already ACTIVE, so there is nothing to resume; read its status first"
    elif cls is PgTrickleUnsupportedQueryError and (refresh_mode or "").upper() == "FULL":
        fix = "rewrite the query (see the pg_trickle SQL reference)"
    elif cls is PgTrickleDatabaseError and sqlstate:
        fix = _FIXES_BY_CLASS.get(sqlstate) or _FIXES_BY_CLASS.get(sqlstate[:2]) or fix
        if sqlstate == "42501":
            fix = _privilege_fix(server_message, operation) or fix
    subject = f"Stream table `{stream_table}`" if stream_table else "pg_trickle"
    if not server_message:
        server_message = f"the server gave no message (SQLSTATE {sqlstate or 'unknown'})"
    message = f"{subject}: {operation} failed: {server_message}; {fix}."
    return cls(message, sqlstate=sqlstate, server_message=server_message, stream_table=stream_table)
