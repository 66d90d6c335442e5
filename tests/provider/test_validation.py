"""Input validation (pure Python; nothing here touches a database)."""

from __future__ import annotations

import pytest

from airflow_provider_pgtrickle._validation import (
    qualify,
    qualify_many,
    split_name,
    validate_refresh_mode,
    validate_schedule,
    validate_status,
)
from airflow_provider_pgtrickle.exceptions import PgTrickleValidationError
from airflow_provider_pgtrickle.types import RefreshMode, StreamTableStatus


@pytest.mark.parametrize(
    ("name", "expected"),
    [("orders", ("public", "orders")), ("analytics.order_totals", ("analytics", "order_totals"))],
)
def test_names_are_always_schema_qualified(name: str, expected: tuple[str, str]) -> None:
    assert split_name(name) == expected
    assert qualify(name) == ".".join(expected)


HOSTILE_NAMES = [
    "Orders",
    'public."orders"',
    "public.orders; DROP TABLE canary",
    "public.ord'ers",
    "public.$$x$$",
    "public.ordérs",
    "a.b.c",
    "public.",
    ".orders",
    "public.1orders",
    "public.or ders",
    "x" * 64,
    "",
]


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_hostile_or_unsupported_names_are_rejected(name: str) -> None:
    with pytest.raises(PgTrickleValidationError) as info:
        qualify(name)
    message = str(info.value)
    assert "Stream table" in message
    assert message.rstrip().endswith(".")


def test_non_string_name_is_rejected() -> None:
    with pytest.raises(PgTrickleValidationError, match="not a non-empty string"):
        qualify(None)


def test_qualify_many_dedupes_and_keeps_order() -> None:
    assert qualify_many(["b", "public.b", "s.a"], argument="x") == ["public.b", "s.a"]
    assert qualify_many("s.a", argument="x") == ["s.a"]
    with pytest.raises(PgTrickleValidationError, match="`x` is an empty list"):
        qualify_many([], argument="x")


@pytest.mark.parametrize(
    ("given", "sent"),
    [
        ("30s", "30s"),
        (" 5m ", "5m"),
        ("1h30m", "1h30m"),
        ("2d", "2d"),
        ("1w", "1w"),
        ("60", "60"),
        ("CALCULATED", "calculated"),
        (" calculated ", "calculated"),
        ("*/5 * * * *", "*/5 * * * *"),
        ("0 */5 * * * *", "0 */5 * * * *"),
        ("@hourly", "@hourly"),
        ("@daily", "@daily"),
        # pg_trickle (croner) reads cron aliases in any case; sent in lower case.
        ("@Hourly", "@hourly"),
        # An integer is bare seconds, as dbt always read it.
        (5, "5"),
    ],
)
def test_valid_schedules(given: object, sent: str) -> None:
    assert validate_schedule(given, subject="s.t") == sent


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "  ",
        "5x",
        "-1m",
        "m",
        "1h30",
        "0s",
        "5M",
        "1h 30m",
        "@every",
        "* * *",
        None,
        5.0,
        True,
        "none",
        "null",
    ],
)
def test_invalid_schedules_name_the_table_and_value(bad: object) -> None:
    with pytest.raises(PgTrickleValidationError) as info:
        validate_schedule(bad, subject="s.t")
    assert "`s.t`" in str(info.value)


@pytest.mark.parametrize(
    ("given", "mode"),
    [
        ("auto", RefreshMode.AUTO),
        ("Full", RefreshMode.FULL),
        ("differential", RefreshMode.DIFFERENTIAL),
        ("INCREMENTAL", RefreshMode.DIFFERENTIAL),
        ("immediate", RefreshMode.IMMEDIATE),
        (RefreshMode.FULL, RefreshMode.FULL),
    ],
)
def test_refresh_modes(given: str, mode: RefreshMode) -> None:
    assert validate_refresh_mode(given, subject="s.t") is mode


def test_unknown_refresh_mode_lists_accepted_values() -> None:
    with pytest.raises(
        PgTrickleValidationError, match="'DIFFERENTIAL', 'FULL', 'AUTO', 'IMMEDIATE'"
    ):
        validate_refresh_mode("FAST", subject="s.t")


def test_auto_is_never_sent_to_alter() -> None:
    with pytest.raises(PgTrickleValidationError, match="cannot be used to alter"):
        validate_refresh_mode("AUTO", subject="s.t", for_alter=True)


@pytest.mark.parametrize(
    ("given", "status"),
    [
        ("paused", StreamTableStatus.SUSPENDED),
        ("PAUSED", StreamTableStatus.SUSPENDED),
        ("suspended", StreamTableStatus.SUSPENDED),
        ("Active", StreamTableStatus.ACTIVE),
        ("ERROR", StreamTableStatus.ERROR),
    ],
)
def test_statuses(given: str, status: StreamTableStatus) -> None:
    assert validate_status(given, subject="s.t") is status


def test_unknown_status() -> None:
    with pytest.raises(PgTrickleValidationError, match="'PAUSED' = 'SUSPENDED'"):
        validate_status("STOPPED", subject="s.t")
