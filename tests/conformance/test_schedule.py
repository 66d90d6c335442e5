"""pg_trickle src/api/helpers.rs, parse_schedule: schedule grammar and its exact error texts."""

from __future__ import annotations

import psycopg
import pytest

from ._helpers import Conn, assert_pg_error, call, create_st, make_source, scalar, snapshot, st

UNIT_HELP = (
    "Use s (seconds), m (minutes), h (hours), d (days), w (weeks). Example: '5m', '1h30m', '2d'"
)


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("calculated", None),
        ("CALCULATED", None),
        ("  Calculated  ", None),
        ("30s", "30s"),
        ("5m", "5m"),
        ("1h30m", "1h30m"),
        ("2d", "2d"),
        ("1w", "1w"),
        ("60", "60"),
        (" 5m ", "5m"),
        ("*/5 * * * *", "*/5 * * * *"),
        ("0 */5 * * * *", "0 */5 * * * *"),
        (" @hourly ", "@hourly"),
        ("@daily", "@daily"),
        ("@weekly", "@weekly"),
        ("@monthly", "@monthly"),
        ("@yearly", "@yearly"),
        ("@annually", "@annually"),
    ],
)
def test_13_06_valid_schedules_are_stored(
    pgtrickle_conn: Conn, given: str, stored: str | None
) -> None:
    make_source(pgtrickle_conn)
    create_st(pgtrickle_conn, "public.t", schedule=given)
    assert st(pgtrickle_conn, "public.t")["schedule"] == stored  # type: ignore[index]


def test_13_06_default_schedule_is_calculated(pgtrickle_conn: Conn) -> None:
    make_source(pgtrickle_conn)
    call(pgtrickle_conn, "create_stream_table", name="public.t", query="SELECT id, v FROM src")
    assert st(pgtrickle_conn, "public.t")["schedule"] is None  # type: ignore[index]


@pytest.mark.parametrize("schedule", ["5m", "@hourly", None])
def test_13_06_immediate_mode_stores_null_schedule(
    pgtrickle_conn: Conn, schedule: str | None
) -> None:
    make_source(pgtrickle_conn)
    # NULL is not checked for IMMEDIATE.
    create_st(pgtrickle_conn, "public.t", schedule=schedule, refresh_mode="IMMEDIATE")
    entry = st(pgtrickle_conn, "public.t")
    assert entry is not None
    assert (entry["refresh_mode"], entry["schedule"]) == ("IMMEDIATE", None)


SCHEDULE_ERRORS: list[tuple[str | None, str]] = [
    (None, "use 'calculated' instead of NULL to set CALCULATED schedule"),
    ("", "schedule cannot be empty"),
    ("   ", "schedule cannot be empty"),
    ("5x", f"invalid duration unit 'x' in '5x'. {UNIT_HELP}"),
    ("5X", f"invalid duration unit 'X' in '5X'. {UNIT_HELP}"),
    ("-1m", f"invalid duration unit '-' in '-1m'. {UNIT_HELP}"),
    ("m", "expected a number before 'm' in duration 'm'"),
    (
        "1h30",
        "trailing digits '30' without a unit in duration '1h30'. Append s, m, h, d, or w."
        " Example: '1h30m'",
    ),
    ("0s", "schedule must be at least 1s, got 0s"),
    ("1h 30m", "invalid cron expression '1h 30m': expected 5 or 6 fields, got 2"),
    ("* * * *", "invalid cron expression '* * * *': expected 5 or 6 fields, got 4"),
    ("* * * * * * *", "invalid cron expression '* * * * * * *': expected 5 or 6 fields, got 7"),
]


@pytest.mark.parametrize(("schedule", "detail"), SCHEDULE_ERRORS)
def test_13_06_schedule_errors_on_create(
    pgtrickle_conn: Conn, schedule: str | None, detail: str
) -> None:
    make_source(pgtrickle_conn)
    before = snapshot(pgtrickle_conn)
    with pytest.raises(psycopg.Error) as err:
        create_st(pgtrickle_conn, "public.t", schedule=schedule)
    assert_pg_error(err.value, "22023", f"invalid argument: {detail}")
    assert snapshot(pgtrickle_conn) == before


@pytest.mark.parametrize("expr", ["61 * * * *", "* * * * mon-xyz"])
def test_13_06_unparsable_cron(pgtrickle_conn: Conn, expr: str) -> None:
    make_source(pgtrickle_conn)
    with pytest.raises(psycopg.Error) as err:
        create_st(pgtrickle_conn, "public.t", schedule=expr)
    prefix = f"invalid argument: invalid cron expression '{expr}': "
    assert_pg_error(err.value, "22023", prefix=prefix)
    assert len(err.value.diag.message_primary or "") > len(prefix)


@pytest.mark.parametrize(
    ("schedule", "detail"), [row for row in SCHEDULE_ERRORS if row[0] is not None]
)
def test_13_06_schedule_errors_on_alter(pgtrickle_conn: Conn, schedule: str, detail: str) -> None:
    make_source(pgtrickle_conn)
    create_st(pgtrickle_conn, "public.t")
    before = snapshot(pgtrickle_conn)
    with pytest.raises(psycopg.Error) as err:
        call(pgtrickle_conn, "alter_stream_table", "public.t", schedule=schedule)
    assert_pg_error(err.value, "22023", f"invalid argument: {detail}")
    assert snapshot(pgtrickle_conn) == before


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30s", 30), ("5m", 300), ("1h30m", 5400), ("2d", 172800), ("1w", 604800), ("60", 60)],
)
def test_03_1_parse_duration_seconds(pgtrickle_conn: Conn, text: str, seconds: int) -> None:
    assert scalar(pgtrickle_conn, "SELECT pgtrickle.parse_duration_seconds(%s)", [text]) == seconds


@pytest.mark.parametrize("text", ["@hourly", "*/5 * * * *", "5x", "calculated"])
def test_03_1_parse_duration_seconds_null_for_non_durations(
    pgtrickle_conn: Conn, text: str
) -> None:
    assert scalar(pgtrickle_conn, "SELECT pgtrickle.parse_duration_seconds(%s)", [text]) is None
