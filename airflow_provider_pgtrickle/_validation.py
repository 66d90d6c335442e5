"""Input validation done in Python before anything is sent to the database.

The rules follow the pg_trickle 0.67.0 SQL API: only lower-case unquoted identifiers work as
stream table names (upstream resolves the storage table through an unquoted cast), the
schedule grammar is durations, cron or `calculated`, and `alter_stream_table` must never see
`AUTO`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping

from airflow_provider_pgtrickle.exceptions import PgTrickleValidationError
from airflow_provider_pgtrickle.types import RefreshMode, StreamTableStatus

DEFAULT_SCHEMA = "public"

_IDENT = re.compile(r"[a-z_][a-z0-9_]*\Z")
_MAX_IDENT_BYTES = 63
_DURATION = re.compile(r"(?:[0-9]+[smhdw])+\Z")
_DURATION_PART = re.compile(r"([0-9]+)([smhdw])")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_CRON_ALIASES = ("@hourly", "@daily", "@weekly", "@monthly", "@yearly", "@annually")
_CRON_FIELD = re.compile(r"[0-9A-Za-z*/,?#\-]+\Z")
CALCULATED = "calculated"
# pg_trickle stores schedules as i64 seconds and refuses longer ones (src/api/helpers.rs,
# parse_duration); PostgreSQL `integer` and `bigint` arguments have these ranges.
MAX_SCHEDULE_SECONDS = 2**63 - 1
INT4_MAX = 2**31 - 1
INT8_MAX = 2**63 - 1
# Waits longer than this are a mistake, and a deadline past year 9999 cannot be represented.
MAX_WAIT_SECONDS = 100 * 365 * 86400
# Schemas a stream table must not live in, and that readers need not be pointed at: `pg_*`
# is reserved by PostgreSQL (pg_catalog, pg_toast, pg_temp, pg_temp_N ...; a stream table in
# pg_temp would vanish with the session and leave its catalog row behind), the others belong
# to the SQL standard and to pg_trickle itself.
_RESERVED_SCHEMAS = ("information_schema", "pgtrickle", "pgtrickle_changes")


def _show(value: object) -> str:
    return repr(value)


def validate_identifier(value: str, *, what: str, subject: str) -> str:
    if not isinstance(value, str) or not _IDENT.match(value):
        raise PgTrickleValidationError(
            f"Stream table `{subject}`: {what} {_show(value)} is not supported; pg_trickle "
            "accepts only lower-case unquoted identifiers matching [a-z_][a-z0-9_]*; rename it."
        )
    if len(value.encode()) > _MAX_IDENT_BYTES:
        raise PgTrickleValidationError(
            f"Stream table `{subject}`: {what} {_show(value)} is longer than "
            f"{_MAX_IDENT_BYTES} bytes; use a shorter name."
        )
    if what == "schema":
        _refuse_reserved_schema(value, subject=f"Stream table `{subject}`")
    return value


def _refuse_reserved_schema(schema: str, *, subject: str) -> None:
    if schema.startswith("pg_") or schema in _RESERVED_SCHEMAS:
        raise PgTrickleValidationError(
            f"{subject}: schema {_show(schema)} is a system or extension schema (pg_*, "
            f"{', '.join(_RESERVED_SCHEMAS)}), where stream tables cannot live; use a schema "
            "of your own such as 'public' or 'analytics'."
        )


def split_name(name: object, *, default_schema: str = DEFAULT_SCHEMA) -> tuple[str, str]:
    """Validate a stream table name and return ``(schema, table)``.

    Unqualified names get ``default_schema`` so every name sent to pg_trickle is qualified.
    """
    if not isinstance(name, str) or not name:
        raise PgTrickleValidationError(
            f"Stream table name {_show(name)} is not a non-empty string; pass 'schema.table'."
        )
    schema, sep, table = name.partition(".")
    if not sep:
        schema, table = default_schema, name
    validate_identifier(schema, what="schema", subject=name)
    validate_identifier(table, what="table name", subject=name)
    return schema, table


def qualify(name: object, *, default_schema: str = DEFAULT_SCHEMA) -> str:
    schema, table = split_name(name, default_schema=default_schema)
    return f"{schema}.{table}"


def qualify_many(names: str | Iterable[str] | None, *, argument: str) -> list[str]:
    """Normalise one name or a list of names to unique qualified names, keeping order."""
    if names is None:
        return []
    if isinstance(names, str):
        names = [names]
    elif not isinstance(names, Iterable) or isinstance(names, (bytes, bytearray, Mapping)):
        raise PgTrickleValidationError(
            f"`{argument}` {_show(names)} is not a name or a list of names; pass "
            "'schema.table' or ['schema.a', 'schema.b']."
        )
    out: list[str] = []
    seen: set[str] = set()  # a list lookup would make 2,000 names cost 2 million compares
    for name in names:
        qualified = qualify(name)
        if qualified not in seen:
            seen.add(qualified)
            out.append(qualified)
    if not out:
        raise PgTrickleValidationError(
            f"`{argument}` is an empty list; pass at least one 'schema.table' name."
        )
    return out


def validate_schema(schema: object) -> str:
    if not isinstance(schema, str) or not _IDENT.match(schema):
        raise PgTrickleValidationError(
            f"Schema {_show(schema)} is not supported; pg_trickle accepts only lower-case "
            "unquoted identifiers matching [a-z_][a-z0-9_]*; pass such a schema name."
        )
    if len(schema.encode()) > _MAX_IDENT_BYTES:
        raise PgTrickleValidationError(
            f"Schema {_show(schema)} is longer than {_MAX_IDENT_BYTES} bytes, so no schema can "
            "have that name; pass the schema's real (shorter) name."
        )
    _refuse_reserved_schema(schema, subject=f"Schema {_show(schema)}")
    return schema


def validate_schedule(schedule: object, *, subject: str) -> str:
    """Return the schedule text to send (trimmed; `calculated` lower-cased)."""
    if schedule is None:
        raise PgTrickleValidationError(
            f"Stream table `{subject}`: schedule None is not allowed; use 'calculated' for a "
            "CALCULATED schedule."
        )
    if not isinstance(schedule, str):
        raise PgTrickleValidationError(
            f"Stream table `{subject}`: schedule {_show(schedule)} is not a string; pass a "
            "duration like '5m' or '1h30m', a cron expression, or 'calculated'."
        )
    text = schedule.strip()
    accepted = (
        "a duration like '30s', '5m', '1h30m', '2d', '1w', a cron expression, or 'calculated'"
    )
    if not text:
        raise PgTrickleValidationError(
            f"Stream table `{subject}`: schedule is empty; pass {accepted}."
        )
    if text.lower() == CALCULATED:
        return CALCULATED
    if text.startswith("@"):
        if text not in _CRON_ALIASES:
            raise PgTrickleValidationError(
                f"Stream table `{subject}`: schedule {_show(schedule)} is not a known cron alias "
                f"(accepted: {', '.join(_CRON_ALIASES)}); pass {accepted}."
            )
        return text
    if " " in text or "\t" in text:
        fields = text.split()
        if len(fields) not in (5, 6) or not all(_CRON_FIELD.match(f) for f in fields):
            raise PgTrickleValidationError(
                f"Stream table `{subject}`: schedule {_show(schedule)} is not a cron expression "
                "with 5 or 6 fields (note: '1h 30m' is read as cron; write '1h30m'); "
                f"pass {accepted}."
            )
        return " ".join(fields)
    # `str.isdigit()` is also true for '²' and other non-ASCII digits that int() refuses.
    if text.isascii() and text.isdigit():
        seconds = int(text)
    elif _DURATION.match(text):
        seconds = sum(int(n) * _UNIT_SECONDS[u] for n, u in _DURATION_PART.findall(text))
    else:
        raise PgTrickleValidationError(
            f"Stream table `{subject}`: schedule {_show(schedule)} is not valid; units are "
            f"s, m, h, d, w (lower case); pass {accepted}."
        )
    if seconds < 1:
        raise PgTrickleValidationError(
            f"Stream table `{subject}`: schedule {_show(schedule)} is shorter than 1s; pass a "
            "longer duration."
        )
    if seconds > MAX_SCHEDULE_SECONDS:
        raise PgTrickleValidationError(
            f"Stream table `{subject}`: schedule {_show(schedule)} is {seconds} seconds, more "
            f"than pg_trickle can store ({MAX_SCHEDULE_SECONDS}); pass a shorter duration."
        )
    return text


def validate_refresh_mode(mode: object, *, subject: str, for_alter: bool = False) -> RefreshMode:
    words = ["AUTO", "FULL", "DIFFERENTIAL", "IMMEDIATE"]
    if isinstance(mode, RefreshMode):
        parsed: RefreshMode | None = mode
    elif isinstance(mode, str):
        word = mode.strip().upper()
        word = "DIFFERENTIAL" if word == "INCREMENTAL" else word
        parsed = RefreshMode(word) if word in words else None
    else:
        parsed = None
    if parsed is None:
        raise PgTrickleValidationError(
            f"Stream table `{subject}`: refresh_mode {_show(mode)} is not valid; accepted: "
            f"{', '.join(words)}."
        )
    if for_alter and parsed is RefreshMode.AUTO:
        raise PgTrickleValidationError(
            f"Stream table `{subject}`: refresh_mode 'AUTO' cannot be used to alter an existing "
            "stream table (pg_trickle would store it and fail its CHECK constraint); pass "
            "'DIFFERENTIAL' or 'FULL'."
        )
    return parsed


def validate_status(status: object, *, subject: str) -> StreamTableStatus:
    """Parse a status for alter; `PAUSED` means SUSPENDED (pg_trickle has no PAUSED status)."""
    words = [s.value for s in StreamTableStatus]
    if isinstance(status, StreamTableStatus):
        return status
    if isinstance(status, str):
        word = status.strip().upper()
        if word == "PAUSED":
            return StreamTableStatus.SUSPENDED
        if word in words:
            return StreamTableStatus(word)
    raise PgTrickleValidationError(
        f"Stream table `{subject}`: status {_show(status)} is not valid; accepted: "
        f"{', '.join(words)} (PAUSED is accepted as SUSPENDED)."
    )


def validate_choice(value: object, *, argument: str, choices: tuple[str, ...], subject: str) -> str:
    if isinstance(value, str) and value.strip().lower() in choices:
        return value.strip().lower()
    raise PgTrickleValidationError(
        f"Stream table `{subject}`: {argument} {_show(value)} is not valid; accepted: "
        f"{', '.join(choices)}."
    )


def validate_query(query: object, *, subject: str) -> str:
    if not isinstance(query, str) or not query.strip():
        raise PgTrickleValidationError(
            f"Stream table `{subject}`: query {_show(query)} is empty; pass a SELECT statement."
        )
    if "\x00" in query:
        raise PgTrickleValidationError(
            f"Stream table `{subject}`: query contains a NUL character; remove it."
        )
    return query


def validate_positive_int(
    value: object, *, argument: str, subject: str, minimum: int = 1, maximum: int = INT4_MAX
) -> int:
    """An integer in ``[minimum, maximum]`` (default: what a PostgreSQL `integer` holds)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        kind = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
        raise PgTrickleValidationError(
            f"`{subject}`: {argument} {_show(value)} is not {kind}; pass {minimum} or more."
        )
    if value > maximum:
        raise PgTrickleValidationError(
            f"`{subject}`: {argument} {_show(value)} is out of range; pass at most {maximum}."
        )
    return value


def validate_number(
    value: object, *, argument: str, subject: str, hint: str, maximum: float | None = None
) -> float:
    """A finite number >= 0 (NaN compares false with everything, so it would pass a `< 0`)."""
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or value < 0
    ):
        raise PgTrickleValidationError(
            f"`{subject}`: {argument} {_show(value)} is not a finite number >= 0; {hint}."
        )
    if maximum is not None and value > maximum:
        raise PgTrickleValidationError(
            f"`{subject}`: {argument} {_show(value)} is out of range; pass at most {maximum:g}."
        )
    return float(value)
