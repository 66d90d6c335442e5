"""Which refresh failures a retry can cure, written once.

pg_trickle 0.85.0 types every refresh failure with an error code (the catalog's
``last_error_code``, history ``error_code``) and 0.96.0 lists the codes with their SQLSTATE and
a hint in ``pgtrickle.error_catalog()``. `FAILURES` is the one table the provider reads: the
hook and the refresh operator (retry or `AirflowFailException`) and the docs
(`failures_markdown`, docs/airflow/operators.md "Retries"). The health rules' reasons, the
trigger's verdicts and the UI show the code the server recorded. Nothing else decides whether
a refresh failure is retryable.

How a failure is classified follows the server's own rule (pg_trickle src/error.rs,
classify_refresh_failure): the SQLSTATE first, then the C-locale message texts PostgreSQL uses
for the same conditions, then the SQLSTATE class. A code the server recorded wins over ours.

One decision differs from the server's flag on purpose: pg_trickle marks ``CANCELLED`` not
retryable, because its scheduler must not fight an operator who cancelled a refresh. An Airflow
retry is a new, deliberate attempt of an idempotent call, so for Airflow a cancelled refresh is
retryable, as a lock timeout is.

Importing this module is cheap (no psycopg, no Airflow).
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass


class FailureCode(str, enum.Enum):
    """pg_trickle's refresh error codes (the ``last_error_code`` CHECK of
    sql/archive/pg_trickle--0.108.3.sql)."""

    LOCK_TIMEOUT = "LOCK_TIMEOUT"
    STATEMENT_TIMEOUT = "STATEMENT_TIMEOUT"
    DEADLOCK = "DEADLOCK"
    SERIALIZATION = "SERIALIZATION"
    OUT_OF_MEMORY = "OUT_OF_MEMORY"
    CANCELLED = "CANCELLED"
    PERMANENT = "PERMANENT"
    UNKNOWN_RETRYABLE = "UNKNOWN_RETRYABLE"


@dataclass(frozen=True)
class Failure:
    """One class of refresh failure.

    :param code: pg_trickle's error code.
    :param sqlstates: the SQLSTATEs that are this class (empty: found by text or class).
    :param texts: lower-case fragments of PostgreSQL's C-locale messages for it.
    :param retryable: whether Airflow retries the task (see the module docstring).
    :param what: what happened, in words.
    :param fix: the fix, used when the server has no ``error_catalog()`` hint for the code.
    """

    code: FailureCode
    sqlstates: tuple[str, ...]
    texts: tuple[str, ...]
    retryable: bool
    what: str
    fix: str


# Order matters: the first entry whose SQLSTATE or text matches wins (57014 is a cancel when
# the text says so, else a statement timeout, as in the server's rule).
FAILURES: tuple[Failure, ...] = (
    Failure(
        FailureCode.LOCK_TIMEOUT,
        ("55P03",),
        ("lock timeout", "canceling statement due to lock timeout"),
        True,
        "a lock the refresh needs was not granted in time",
        "let the competing transaction finish, or raise lock_timeout",
    ),
    Failure(
        FailureCode.DEADLOCK,
        ("40P01",),
        ("deadlock detected",),
        True,
        "PostgreSQL broke a deadlock by aborting the refresh",
        "retry; if it recurs, order the writers' locks consistently",
    ),
    Failure(
        FailureCode.SERIALIZATION,
        ("40001",),
        ("could not serialize access",),
        True,
        "a concurrent transaction forced a serialization failure",
        "retry; committed source changes are kept",
    ),
    Failure(
        FailureCode.OUT_OF_MEMORY,
        ("53200",),
        ("out of memory",),
        True,
        "the refresh ran out of memory",
        "retry when the server is less busy, or lower pg_trickle's memory budget",
    ),
    Failure(
        FailureCode.CANCELLED,
        (),
        (
            "canceling statement due to user request",
            "query canceled by user",
            "query cancelled by user",
        ),
        True,
        "the refresh statement was cancelled",
        "retry; find out who cancelled it (pg_cancel_backend, a task timeout)",
    ),
    Failure(
        FailureCode.STATEMENT_TIMEOUT,
        ("57014",),
        ("statement timeout", "canceling statement due to statement timeout"),
        True,
        "the refresh ran longer than statement_timeout",
        "raise statement_timeout for the refresh, or refresh less at a time",
    ),
    Failure(
        FailureCode.UNKNOWN_RETRYABLE,
        (),
        (),
        True,
        "the refresh failed for a transient reason",
        "retry; if it recurs, read the server log",
    ),
    Failure(
        FailureCode.PERMANENT,
        (),
        (),
        False,
        "the refresh failed for a reason a retry does not cure",
        "fix the cause the message names, then clear the task",
    ),
)

BY_CODE: dict[FailureCode, Failure] = {failure.code: failure for failure in FAILURES}
RETRYABLE_CODES: tuple[str, ...] = tuple(f.code.value for f in FAILURES if f.retryable)

# SQLSTATE classes of transient conditions: transaction rollback, insufficient resources,
# object not in prerequisite state (locks), operator intervention, connection, system error.
_RETRYABLE_CLASSES = ("40", "53", "55", "57", "08", "58")
# pg_trickle's SPI errors keep the original SQLSTATE in the text: "SPI error [55P03]: ...".
_EMBEDDED_SQLSTATE = re.compile(r"\[([0-9A-Z]{5})\]")


def classify(sqlstate: str | None, message: str | None) -> Failure:
    """The class of a refresh failure from its SQLSTATE and primary message."""
    text = (message or "").lower()
    if not sqlstate or sqlstate == "XX000":
        embedded = _EMBEDDED_SQLSTATE.search(message or "")
        if embedded:
            sqlstate = embedded.group(1)
    for failure in FAILURES:
        if any(fragment in text for fragment in failure.texts):
            return failure
        if sqlstate and sqlstate in failure.sqlstates:
            return failure
    if sqlstate and sqlstate[:2] in _RETRYABLE_CLASSES:
        return BY_CODE[FailureCode.UNKNOWN_RETRYABLE]
    return BY_CODE[FailureCode.PERMANENT]


def from_code(code: str | None) -> Failure | None:
    """The class the server recorded (``last_error_code``, history ``error_code``)."""
    if code is None:
        return None
    try:
        return BY_CODE[FailureCode(code)]
    except ValueError:
        return None


def failures_markdown() -> str:
    """The table as Markdown, for docs/health.md (between its GENERATED markers)."""
    lines = [
        "| Code | SQLSTATE | Airflow retries | What happened | Fix (when the server has no hint) |",
        "|---|---|---|---|---|",
    ]
    for f in FAILURES:
        if f.sqlstates:
            states = ", ".join(f"`{s}`" for s in f.sqlstates)
        elif f.texts:
            states = "`57014` with a cancel message"
        elif f.retryable:
            states = "other codes of classes " + ", ".join(f"`{c}`" for c in _RETRYABLE_CLASSES)
        else:
            states = "any other"
        retried = "yes" if f.retryable else "no"
        lines.append(f"| `{f.code.value}` | {states} | {retried} | {f.what} | {f.fix} |")
    return "\n".join(lines) + "\n"
