"""Input validation done in Python before anything is sent to the database.

Every rule comes from `airflow_provider_pgtrickle.vocabulary.config` (the dbt package reads
the same rules from the macro generated from it): the identifier rule, the schedule grammar,
the accepted words and their aliases, the number ranges and the combinations pg_trickle
refuses. `check_config` is the non-raising core (the twin of the dbt macro
`pgtrickle_check_config`); the `validate_*` functions raise `PgTrickleValidationError`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, cast

from airflow_provider_pgtrickle.exceptions import PgTrickleValidationError
from airflow_provider_pgtrickle.types import RefreshMode, StreamTableStatus
from airflow_provider_pgtrickle.vocabulary import config as vocab
from airflow_provider_pgtrickle.vocabulary.config import (
    BY_NAME,
    COMBINATIONS,
    IDENTIFIER,
    INT4_MAX,
    SCHEDULE,
    Argument,
    Kind,
    Surface,
)

DEFAULT_SCHEMA = "public"
# The create defaults every surface shares (hook, create operator, dbt): the vocabulary's.
DEFAULT_SCHEDULE: str = str(BY_NAME["schedule"].default)
DEFAULT_REFRESH_MODE: str = str(BY_NAME["refresh_mode"].default)

_MAX_IDENT_BYTES = IDENTIFIER.max_bytes
CALCULATED = SCHEDULE.calculated
# Waits longer than this are a mistake, and a deadline past year 9999 cannot be represented.
MAX_WAIT_SECONDS = 100 * 365 * 86400
_RESERVED_SCHEMAS = IDENTIFIER.reserved_schemas
# Patterns are compiled on first use (re's cache): importing this module stays cheap.


def validate_identifier(value: str, *, what: str, subject: str) -> str:
    if not isinstance(value, str) or not re.match(IDENTIFIER.pattern, value):
        raise PgTrickleValidationError(
            f"Stream table `{subject}`: {what} {value!r} is not supported; pg_trickle "
            "accepts only lower-case unquoted identifiers matching [a-z_][a-z0-9_]*; rename it."
        )
    if len(value.encode()) > _MAX_IDENT_BYTES:
        raise PgTrickleValidationError(
            f"Stream table `{subject}`: {what} {value!r} is longer than "
            f"{_MAX_IDENT_BYTES} bytes; use a shorter name."
        )
    if what == "schema":
        _refuse_reserved_schema(value, subject=f"Stream table `{subject}`")
    return value


def _refuse_reserved_schema(schema: str, *, subject: str) -> None:
    if schema.startswith(IDENTIFIER.reserved_schema_prefix) or schema in _RESERVED_SCHEMAS:
        raise PgTrickleValidationError(
            f"{subject}: schema {schema!r} is a system or extension schema (pg_*, "
            f"{', '.join(_RESERVED_SCHEMAS)}), where stream tables cannot live; use a schema "
            "of your own such as 'public' or 'analytics'."
        )


def split_name(name: object, *, default_schema: str = DEFAULT_SCHEMA) -> tuple[str, str]:
    """Validate a stream table name and return ``(schema, table)``.

    Unqualified names get ``default_schema`` so every name sent to pg_trickle is qualified.
    """
    if not isinstance(name, str) or not name:
        raise PgTrickleValidationError(
            f"Stream table name {name!r} is not a non-empty string; pass 'schema.table'."
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
            f"`{argument}` {names!r} is not a name or a list of names; pass "
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
    if not isinstance(schema, str) or not re.match(IDENTIFIER.pattern, schema):
        raise PgTrickleValidationError(
            f"Schema {schema!r} is not supported; pg_trickle accepts only lower-case "
            "unquoted identifiers matching [a-z_][a-z0-9_]*; pass such a schema name."
        )
    if len(schema.encode()) > _MAX_IDENT_BYTES:
        raise PgTrickleValidationError(
            f"Schema {schema!r} is longer than {_MAX_IDENT_BYTES} bytes, so no schema can "
            "have that name; pass the schema's real (shorter) name."
        )
    _refuse_reserved_schema(schema, subject=f"Schema {schema!r}")
    return schema


def schedule_text(value: object) -> str | None:
    """The canonical schedule for ``value`` (not None), or None when pg_trickle refuses it.

    The grammar is `vocabulary.config.ScheduleGrammar` (pg_trickle src/api/helpers.rs,
    parse_schedule): trimmed; `calculated` in any case; `@alias` in any case (sent lower
    case); a cron expression (it has a space) of 5 or 6 fields, sent with single spaces;
    else bare seconds or number+unit parts, at least 1s and at most i64 seconds.
    """
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not text:
        return None
    if text.lower() == SCHEDULE.calculated:
        return SCHEDULE.calculated
    if text.startswith("@"):
        return text.lower() if text.lower() in SCHEDULE.cron_aliases else None
    if " " in text:
        fields = text.split()
        if len(fields) not in SCHEDULE.cron_field_counts or not all(
            re.match(SCHEDULE.cron_field_pattern, f) for f in fields
        ):
            return None
        ranges = SCHEDULE.cron_field_ranges
        if len(fields) > len(ranges):
            ranges = (SCHEDULE.cron_seconds_range, *ranges)
        for text_field, (low, high) in zip(fields, ranges, strict=True):
            for item in text_field.split(","):
                values = re.findall("[0-9]+", item.split("/")[0].split("#")[0])
                if any(not low <= int(v) <= high for v in values):
                    return None
        return " ".join(fields)
    if re.match(SCHEDULE.seconds_pattern, text):
        seconds = int(text)
    elif re.match(SCHEDULE.duration_pattern, text):
        seconds = sum(
            int(n) * SCHEDULE.units[u] for n, u in re.findall(SCHEDULE.part_pattern, text)
        )
    else:
        return None
    if seconds < SCHEDULE.min_seconds or seconds > SCHEDULE.max_seconds:
        return None
    return text


def validate_schedule(schedule: object, *, subject: str) -> str:
    """Return the schedule text to send (see `schedule_text`); None is refused here (the
    create path maps None to `calculated` before calling this)."""
    if schedule is None:
        raise PgTrickleValidationError(
            f"Stream table `{subject}`: schedule None is not allowed here; use 'calculated' "
            "for a CALCULATED schedule."
        )
    text = schedule_text(schedule)
    if text is None:
        raise PgTrickleValidationError(
            f"Stream table `{subject}`: schedule {schedule!r} is not valid (note: '1h 30m' is "
            f"read as cron; write '1h30m'); accepted: {vocab.accepted(BY_NAME['schedule'])}."
        )
    return text


def word(argument: Argument, value: object, *, surface: Surface = Surface.MODEL) -> str | None:
    """The canonical word for ``value`` (trimmed, case-folded, alias resolved), or None."""
    if not isinstance(value, str):
        return None
    text = value.strip().upper() if argument.upper else value.strip().lower()
    text = argument.aliases.get(text, text)
    words = argument.words
    if surface is Surface.MODEL and argument.model_words is not None:
        words = argument.model_words
    elif surface is Surface.ALTER and argument.alter_words is not None:
        words = argument.alter_words
    return text if text in words else None


def validate_refresh_mode(mode: object, *, subject: str, for_alter: bool = False) -> RefreshMode:
    argument = BY_NAME["refresh_mode"]
    if isinstance(mode, RefreshMode):
        mode = mode.value
    parsed = word(argument, mode, surface=Surface.CREATE)
    if parsed is None:
        raise PgTrickleValidationError(
            f"Stream table `{subject}`: refresh_mode {mode!r} is not valid; accepted: "
            f"{vocab.accepted(argument, surface=Surface.CREATE)}."
        )
    if for_alter and word(argument, parsed, surface=Surface.ALTER) is None:
        raise PgTrickleValidationError(
            f"Stream table `{subject}`: refresh_mode {parsed!r} cannot be used to alter an "
            "existing stream table (pg_trickle would store it and fail its CHECK constraint); "
            f"accepted: {vocab.accepted(argument, surface=Surface.ALTER)}."
        )
    return RefreshMode(parsed)


def validate_status(status: object, *, subject: str) -> StreamTableStatus:
    """Parse a status for alter; `PAUSED` means SUSPENDED (pg_trickle has no PAUSED status)."""
    argument = BY_NAME["status"]
    if isinstance(status, StreamTableStatus):
        return status
    parsed = word(argument, status, surface=Surface.ALTER)
    if parsed is None:
        raise PgTrickleValidationError(
            f"Stream table `{subject}`: status {status!r} is not valid; accepted: "
            f"{vocab.accepted(argument, surface=Surface.ALTER)}."
        )
    return StreamTableStatus(parsed)


@dataclass(frozen=True)
class ConfigProblem:
    """The first refused value: its key, the value as given, and what is accepted."""

    key: str
    value: Any
    accepted: str


@dataclass(frozen=True)
class ConfigCheck:
    """`check_config`'s verdict: canonical values, or the problem (never both)."""

    value: dict[str, Any] = field(default_factory=dict)
    error: ConfigProblem | None = None


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _canonical(argument: Argument, value: object, surface: Surface) -> tuple[bool, Any]:
    """``(ok, canonical)`` for a given (not None) value of ``argument``."""
    kind = argument.kind
    if kind is Kind.WORD:
        parsed = word(argument, value, surface=surface)
        return parsed is not None, parsed
    if kind is Kind.BOOLEAN:
        if isinstance(value, bool):
            return True, value
        if isinstance(value, str) and value.strip().lower() in vocab.BOOLEAN_WORDS:
            return True, vocab.BOOLEAN_WORDS[value.strip().lower()]
        return False, None
    if kind in (Kind.INTEGER, Kind.NUMBER):
        number_types = (int,) if kind is Kind.INTEGER else (int, float)
        if isinstance(value, bool) or not isinstance(value, number_types):
            return False, None
        number = float(value) if isinstance(value, float) else int(cast("int", value))
        if (
            not math.isfinite(number)
            or (argument.minimum is not None and number < argument.minimum)
            or (argument.maximum is not None and number > argument.maximum)
        ):
            return False, None
        return True, value
    if kind is Kind.SCHEDULE:
        text = schedule_text(value)
        return text is not None, text
    if kind is Kind.PARTITION:
        if not isinstance(value, str):
            return False, None
        if surface is Surface.ALTER and not value.strip():
            return True, ""  # alter: an empty partition_by removes the partitioning
        return _partition_ok(value), value.strip()
    ok = isinstance(value, str) and bool(re.match(vocab.COLUMN_PATTERN, value))
    return ok, value if ok else None


def _partition_ok(value: str) -> bool:
    parts = re.match(vocab.PARTITION_PATTERN, value)
    if parts is None:
        return False
    kind = (parts.group(1) or "range").lower()
    if kind in vocab.PARTITION_SINGLE_COLUMN and "," in parts.group(2):
        return False
    if parts.group(3) is not None:
        low, high = vocab.PARTITION_MODULUS
        return kind == vocab.PARTITION_MODULUS_KIND and low <= int(parts.group(3)) <= high
    return True


def _identifier_problem(key: str, value: object, *, schema: bool) -> ConfigProblem | None:
    # The pattern is ASCII-only and checked first, so the byte count is the character count.
    if (
        not isinstance(value, str)
        or not re.match(IDENTIFIER.pattern, value)
        or len(value.encode()) > _MAX_IDENT_BYTES
    ):
        return ConfigProblem(key, value, vocab.IDENTIFIER_ACCEPTED)
    if schema and (
        value.startswith(IDENTIFIER.reserved_schema_prefix) or value in _RESERVED_SCHEMAS
    ):
        return ConfigProblem(key, value, vocab.RESERVED_SCHEMA_ACCEPTED)
    return None


def check_config(raw: Mapping[str, Any], *, surface: Surface = Surface.MODEL) -> ConfigCheck:
    """Canonical values of a stream table config, or the first problem; never raises.

    ``surface`` MODEL (a dbt model's config: the twin of the dbt macro
    `pgtrickle_check_config`): every model argument gets a value, left-out ones their
    default (None: not managed); ``stream_table_name`` / ``stream_table_schema`` are
    checked (an error names ``_name_key`` / ``_schema_key`` when given). CREATE and ALTER:
    only the arguments given (not None) are checked and returned. A schedule of None means
    CALCULATED except in ALTER; with IMMEDIATE the schedule becomes `calculated`.
    """
    out: dict[str, Any] = {}
    if surface is Surface.MODEL:
        for key, origin, schema in (
            ("stream_table_name", raw.get("_name_key", "stream_table_name"), False),
            ("stream_table_schema", raw.get("_schema_key", "stream_table_schema"), True),
        ):
            problem = _identifier_problem(origin, raw.get(key), schema=schema)
            if problem is not None:
                return ConfigCheck(error=problem)
            out[key] = raw[key]
    for argument in vocab.arguments(surface):
        name = argument.name
        given = name in raw
        value = raw.get(name)
        if name == "schedule" and given and value is None and surface is not Surface.ALTER:
            value = SCHEDULE.calculated
        if (
            _blank(value)
            and not (argument.kind is Kind.PARTITION and isinstance(value, str))
            and not (argument.kind is Kind.SCHEDULE and isinstance(value, str))
        ):
            if surface is Surface.MODEL:
                out[name] = argument.default
            continue
        ok, canonical = _canonical(argument, value, surface)
        if not ok:
            return ConfigCheck(
                error=ConfigProblem(name, raw.get(name), vocab.accepted(argument, surface=surface))
            )
        out[name] = canonical
    problem = combination_problem(out, surface=surface)
    if problem is not None:
        return ConfigCheck(error=problem)
    if out.get("refresh_mode") in SCHEDULE.scheduleless_modes and "schedule" in out:
        out["schedule"] = SCHEDULE.calculated
    return ConfigCheck(value=out)


def combination_problem(values: Mapping[str, Any], *, surface: Surface) -> ConfigProblem | None:
    """The first combination pg_trickle refuses among ``values`` (canonical), if any.

    Only keys present in ``values`` count: for alter that is what the call itself sets,
    not the table's current settings (checking those would cost a round trip per call;
    pg_trickle still refuses such a combination with its own error).
    """
    for rule in COMBINATIONS:
        if rule.key not in values or rule.other not in values:
            continue
        value, other = values[rule.key], values[rule.other]
        if value is None or other not in rule.other_values:
            continue
        if rule.refused is None or value in rule.refused:
            return ConfigProblem(rule.key, value, rule.accepted)
    return None


def check_arguments(name: str, given: Mapping[str, Any], surface: Surface) -> dict[str, Any]:
    """The canonical values of the arguments given (None: not sent), checked together against
    the vocabulary (words, ranges, combinations) before anything is sent; raises
    `PgTrickleValidationError` for an unknown argument or the first refused value."""
    allowed = [a.name for a in vocab.arguments(surface)]
    unknown = sorted(key for key in given if key not in allowed)
    if unknown:
        raise PgTrickleValidationError(
            f"Stream table `{name}`: unknown option {unknown[0]!r}; accepted: "
            f"{', '.join(sorted(allowed))}."
        )
    checked = check_config({k: v for k, v in given.items() if v is not None}, surface=surface)
    if checked.error is not None:
        raise config_error(name, checked.error)
    return checked.value


def config_error(subject: str, problem: ConfigProblem) -> PgTrickleValidationError:
    return PgTrickleValidationError(
        f"Stream table `{subject}`: {problem.key} {problem.value!r} is not valid; accepted: "
        f"{problem.accepted}. Fix the argument and run again."
    )


def validate_query(query: object, *, subject: str) -> str:
    if not isinstance(query, str) or not query.strip():
        raise PgTrickleValidationError(
            f"Stream table `{subject}`: query {query!r} is empty; pass a SELECT statement."
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
            f"`{subject}`: {argument} {value!r} is not {kind}; pass {minimum} or more."
        )
    if value > maximum:
        raise PgTrickleValidationError(
            f"`{subject}`: {argument} {value!r} is out of range; pass at most {maximum}."
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
            f"`{subject}`: {argument} {value!r} is not a finite number >= 0; {hint}."
        )
    if maximum is not None and value > maximum:
        raise PgTrickleValidationError(
            f"`{subject}`: {argument} {value!r} is out of range; pass at most {maximum:g}."
        )
    return float(value)
