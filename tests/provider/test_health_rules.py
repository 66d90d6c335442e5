"""The health rules shared by the sensor and the trigger (pure Python)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from airflow_provider_pgtrickle._health import classify, health_query
from airflow_provider_pgtrickle.types import HealthRow, HealthState, StreamTableStatus

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=timezone.utc)


def row(name: str = "s.t", **changes: object) -> HealthRow:
    schema, table = name.split(".")
    values: dict[str, object] = {
        "schema": schema,
        "name": table,
        "status": StreamTableStatus.ACTIVE,
        "is_populated": True,
        "consecutive_errors": 0,
        "staleness_seconds": 10.0,
        "data_timestamp": NOW,
        "last_error_message": None,
    }
    values.update(changes)
    return HealthRow(**values)  # type: ignore[arg-type]


def judge(*rows: HealthRow, requested: list[str] | None = None, **kwargs: object):
    options: dict[str, object] = {
        "max_staleness": None,
        "min_data_timestamp": None,
        "fail_on_error": True,
    }
    options.update(kwargs)
    return classify(rows, requested=requested or [], **options)  # type: ignore[arg-type]


def test_active_populated_fresh_table_is_healthy() -> None:
    report = judge(row(), requested=["s.t"], max_staleness=60)
    assert report.state is HealthState.HEALTHY
    assert report.to_dict()["state"] == "healthy"


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"status": StreamTableStatus.INITIALIZING, "is_populated": False}, "not populated"),
        ({"consecutive_errors": 2}, "2 consecutive refresh error"),
        ({"staleness_seconds": 61.0}, "is stale"),
        ({"staleness_seconds": None, "is_populated": True}, "is stale"),
        ({"data_timestamp": NOW - timedelta(seconds=1)}, "before the data interval end"),
    ],
)
def test_waiting_reasons(changes: dict[str, object], reason: str) -> None:
    report = judge(row(**changes), max_staleness=60, min_data_timestamp=NOW)
    assert report.state is HealthState.WAITING
    assert reason in report.message


def test_current_interval_is_judged_on_the_last_refresh() -> None:
    # A refresh that found nothing to change keeps data_timestamp but moves last_refresh_at.
    quiet = row(data_timestamp=NOW - timedelta(hours=1), last_refresh_at=NOW)
    assert judge(quiet, min_data_timestamp=NOW).state is HealthState.HEALTHY
    stale = row(data_timestamp=NOW - timedelta(hours=1), last_refresh_at=NOW - timedelta(seconds=1))
    report = judge(stale, min_data_timestamp=NOW)
    assert report.state is HealthState.WAITING
    assert "was last refreshed " + (NOW - timedelta(seconds=1)).isoformat() in report.message


@pytest.mark.parametrize("status", [StreamTableStatus.ERROR, StreamTableStatus.SUSPENDED])
def test_error_and_suspended_fail_with_last_error(status: StreamTableStatus) -> None:
    report = judge(row(status=status, last_error_message="division by zero"))
    assert report.state is HealthState.FAILED
    assert "`s.t` is " + status.value + ": division by zero" in report.message
    assert report.message.endswith(".")


def test_fail_on_error_false_keeps_waiting() -> None:
    report = judge(row(status=StreamTableStatus.ERROR), fail_on_error=False)
    assert report.state is HealthState.WAITING


def test_unknown_names_fail() -> None:
    report = judge(row("s.a"), requested=["s.a", "s.missing"])
    assert report.state is HealthState.FAILED
    assert report.missing == ("s.missing",)
    assert "`s.missing`" in report.message


def test_one_unhealthy_table_holds_back_the_others() -> None:
    report = judge(row("s.a"), row("s.b", consecutive_errors=1))
    assert report.state is HealthState.WAITING
    assert [t.state for t in report.tables] == [HealthState.HEALTHY, HealthState.WAITING]


def test_no_tables_waits() -> None:
    assert judge().state is HealthState.WAITING


def test_query_binds_names_and_schema_as_values() -> None:
    _, params = health_query(["s.a", "s.b"], None)
    assert params == [["s.a", "s.b"]]
    _, params = health_query([], "analytics")
    assert params == ["analytics"]
    _, params = health_query([], None)
    assert params == []


def test_a_report_over_thousands_of_tables_stays_bounded() -> None:
    rows = [row(f"s.t{i:04d}") for i in range(2000)]
    rows[1500] = row("s.t1500", consecutive_errors=1)
    rows[1700] = row("s.t1700", is_populated=False)
    report = judge(*rows)
    assert report.state is HealthState.WAITING
    assert report.counts == {"healthy": 1998, "waiting": 2, "failed": 0, "missing": 0}
    payload = report.to_dict()
    # The unhealthy tables come first, then healthy ones, at most ten in all.
    assert [t["stream_table"] for t in payload["tables"][:2]] == ["s.t1500", "s.t1700"]
    assert len(payload["tables"]) == 10
    assert payload["omitted"] == 1990
    assert report.message == (
        "`s.t1500` has 1 consecutive refresh error(s); `s.t1700` is not populated yet"
        " (2000 checked: 1998 healthy, 2 waiting, 0 failed)."
    )


def test_a_report_names_the_first_ten_of_each_kind_and_counts_the_rest() -> None:
    waiting = judge(*[row(f"s.t{i:04d}", consecutive_errors=1) for i in range(2000)])
    assert waiting.message.count("`") == 20
    assert "`s.t0009` has 1" in waiting.message
    assert "s.t0010" not in waiting.message
    assert "and 1990 more waiting (2000 checked: 0 healthy, 2000 waiting" in waiting.message
    healthy = judge(*[row(f"s.t{i:04d}") for i in range(2000)])
    assert healthy.message.endswith("`s.t0009` and 1990 more healthy.")
    missing = judge(requested=[f"s.m{i}" for i in range(50)])
    assert missing.to_dict()["missing"] == [f"s.m{i}" for i in range(10)]
    assert missing.counts["missing"] == 50
    assert "`s.m9` and 40 more not found" in missing.message
