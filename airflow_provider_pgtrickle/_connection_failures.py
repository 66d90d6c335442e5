"""Tell a database that is briefly out of reach from one that refuses us for good.

A health sensor waits for hours; a server restart, a failover or a full connection table in
that time must not fail it, while a wrong password or database name never cures itself. The
rule lives here so the poking sensor and the deferred trigger judge a failure alike.
"""

from __future__ import annotations

import dataclasses
import enum

import psycopg

# libpq reports failures while connecting without a SQLSTATE, so the server's (C-locale)
# texts are matched. Refusals that waiting will not cure:
_PERMANENT_TEXTS = (
    "password authentication failed",
    "authentication failed",
    "no pg_hba.conf entry",
    "does not exist",  # database "x" / role "x" does not exist
    "permission denied",
    "is not permitted to log in",
)
# The server is up but has no connection slot for us; retrying at once only adds load.
_BUSY_TEXTS = (
    "too many clients already",
    "too many connections for role",
    "remaining connection slots are reserved",
)
_BUSY_SQLSTATES = frozenset({"53300"})  # too_many_connections
_PERMANENT_SQLSTATES = frozenset({"28000", "28P01", "3D000", "42501"})


class ConnectionFailureKind(str, enum.Enum):
    """How a sensor treats a failure to reach the database."""

    TRANSIENT = "transient"  # down, restarting, shutting down, network: poke again
    BUSY = "busy"  # no free connection slot: poke again, waiting longer each time
    PERMANENT = "permanent"  # the server refused these credentials or this database: fail


@dataclasses.dataclass(frozen=True)
class ConnectionFailure:
    """A failure to reach or stay connected to the database, with its server text."""

    kind: ConnectionFailureKind
    message: str


def _operational_error(error: BaseException) -> psycopg.OperationalError | None:
    """The psycopg connection error behind ``error`` (itself or an explicit cause)."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, psycopg.OperationalError):
            return current
        seen.add(id(current))
        current = current.__cause__
    return None


def connection_failure(error: BaseException) -> ConnectionFailure | None:
    """Classify ``error`` if it (or what it was raised from) is a connection failure.

    `None` means it is not one (a SQL error, a health verdict): handle it as before.
    Connection errors that match no known refusal count as transient: the deferred trigger
    has always retried those until its deadline, and a sensor's timeout still bounds the wait.
    """
    cause = _operational_error(error)
    if cause is None:
        return None
    message = " ".join(str(cause).split()) or type(cause).__name__
    sqlstate = getattr(cause, "sqlstate", None)
    lowered = message.lower()
    if sqlstate in _BUSY_SQLSTATES or any(text in lowered for text in _BUSY_TEXTS):
        kind = ConnectionFailureKind.BUSY
    elif sqlstate in _PERMANENT_SQLSTATES or any(text in lowered for text in _PERMANENT_TEXTS):
        kind = ConnectionFailureKind.PERMANENT
    else:
        kind = ConnectionFailureKind.TRANSIENT
    return ConnectionFailure(kind, message)
