"""Every exception the provider raises.

Hierarchy::

    PgTrickleError (AirflowException)
    ├── PgTrickleValidationError (also ValueError): bad input, raised before any SQL is sent
    ├── PgTrickleExtensionMissingError: `pg_trickle` is not installed in the database
    ├── PgTrickleDatabaseError: the server rejected a pgtrickle call (carries `sqlstate`
    │   and the server's `server_message`)
    │   ├── StreamTableNotFoundError (42P01)
    │   ├── StreamTableAlreadyExistsError (42P07)
    │   ├── PgTrickleInvalidArgumentError (22023, `invalid argument: ...`)
    │   │   ├── StreamTableStateError: refresh/resume refused in the current status
    │   │   └── StreamTableDependencyError: drop refused because of dependent stream tables
    │   ├── PgTrickleUnsupportedQueryError (0A000 / 42000: the query cannot be maintained)
    │   └── StreamTableLockedError (55P03 / 40P01: a lock was not available)
    ├── PgTrickleRefreshError: the refresh operator finished with failed tables
    ├── PgTrickleUnhealthyError (AirflowFailException): the health sensor saw ERROR/SUSPENDED
    │   or unknown stream tables; retrying would not help
    ├── PgTrickleSensorTimeout (AirflowSensorTimeout): the health sensor ran out of time
    ├── PgTrickleConnectionError (AirflowFailException): the server refused the connection
    │   for good (bad password, unknown database or role, no permission); waiting would not help
    └── PgTrickleTestServerError: the throwaway test server (`testing`) could not start

Messages name the object in backticks and end with the fix.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from airflow.sdk.exceptions import AirflowException, AirflowFailException, AirflowSensorTimeout

if TYPE_CHECKING:
    import psycopg


class PgTrickleError(AirflowException):
    """Base class of every error raised by airflow-provider-pgtrickle."""


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
        self.server_message = server_message
        self.stream_table = stream_table


class StreamTableNotFoundError(PgTrickleDatabaseError):
    """The named stream table is not in the pg_trickle catalog."""


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


class StreamTableLockedError(PgTrickleDatabaseError):
    """A lock needed by the call was not available."""


class PgTrickleRefreshError(PgTrickleError):
    """One or more stream tables failed to refresh (the others were refreshed).

    :ivar results: the per-table results (JSON-native dicts), failed ones included
    """

    def __init__(self, message: str, results: list[dict[str, object]]) -> None:
        super().__init__(message)
        self.results = results


class PgTrickleUnhealthyError(PgTrickleError, AirflowFailException):
    """The health sensor found tables in ERROR or SUSPENDED, or names not in the catalog."""


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
    PgTrickleDatabaseError: "see the server message above",
}


def translate_database_error(
    error: psycopg.Error, *, operation: str, stream_table: str | None
) -> PgTrickleDatabaseError:
    """Map a psycopg error raised by a pgtrickle call to the provider's hierarchy."""
    diag = getattr(error, "diag", None)
    sqlstate = getattr(error, "sqlstate", None) or (diag.sqlstate if diag else None)
    server_message = (diag.message_primary if diag else None) or str(error).strip()
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
    subject = f"Stream table `{stream_table}`" if stream_table else "pg_trickle"
    message = f"{subject}: {operation} failed: {server_message}; {fix}."
    return cls(message, sqlstate=sqlstate, server_message=server_message, stream_table=stream_table)
