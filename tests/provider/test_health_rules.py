"""The health rules (`vocabulary.health`), judged by the database, and the report built on them.

The rules are one SQL expression; these tests evaluate it on synthetic catalog rows (`st`) and
requests (`req`) in the test database, one query per case, so they stay fast. The sensor,
trigger, dbt test and `pgtrickle_status` select the same expression
(tests/dbt/test_health_vocabulary.py runs one table of states through all four).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import psycopg
import pytest

from airflow_provider_pgtrickle._health import Judged, Rules, classify, health_query
from airflow_provider_pgtrickle.capabilities import ReadPath, probe
from airflow_provider_pgtrickle.types import HealthState
from airflow_provider_pgtrickle.vocabulary.health import (
    VERDICT_JOIN,
    VERDICT_JOIN_BY_FUNCTIONS,
    Verdict,
)

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=timezone.utc)

_ROW = {
    "pgt_id": 1,
    "pgt_schema": "public",
    "pgt_name": "synthetic_row",
    "status": "ACTIVE",
    "refresh_mode": "DIFFERENTIAL",
    "schedule": "1m",
    "is_populated": True,
    "consecutive_errors": 0,
    "last_error_message": None,
    "last_refresh_at": NOW,
    "data_timestamp": NOW,
    "fuse_state": "armed",
    "blow_reason": None,
    "needs_reinit": False,
    "freshness_deadline_ms": None,
}
_TYPES = {
    "pgt_id": "bigint",
    "pgt_schema": "text",
    "pgt_name": "text",
    "status": "text",
    "refresh_mode": "text",
    "schedule": "text",
    "is_populated": "boolean",
    "consecutive_errors": "int",
    "last_error_message": "text",
    "last_refresh_at": "timestamptz",
    "data_timestamp": "timestamptz",
    "fuse_state": "text",
    "blow_reason": "text",
    "needs_reinit": "boolean",
    "freshness_deadline_ms": "bigint",
    # Columns of newer servers only (read as to_jsonb(st) ->> ...): absent unless a test adds
    # them, as on 0.67.0.
    "last_error_code": "text",
    "refresh_reason": "text",
    "refresh_reason_detail": "text",
}


def verdict(
    conn: psycopg.Connection[Any],
    now: datetime = NOW + timedelta(seconds=10),
    rules: Rules | None = None,
    *,
    missing: bool = False,
    **changes: object,
) -> tuple[str, str]:
    """(health, reason) of one synthetic catalog row under `rules`, at the moment `now`."""
    rules = rules or Rules()
    row = {**_ROW, **changes}
    columns = ", ".join(f"%s::{_TYPES[k]} AS {k}" for k in row)
    st = f"(SELECT {columns}{' WHERE false' if missing else ''}) AS one"
    query = (
        "SELECT verdict.pair[1], verdict.pair[2] FROM (SELECT %s::float8 AS max_staleness,"
        " %s::timestamptz AS min_data_timestamp, %s::boolean AS within_schedule,"
        " %s::boolean AS require_sla) AS req"
        f" LEFT JOIN LATERAL (SELECT * FROM {st}) AS st ON true"
        # The rules as the server's read path renders them: their history probes read the
        # catalog (0.67.0) or get_refresh_history (0.96.0 and later).
        + (
            VERDICT_JOIN_BY_FUNCTIONS
            if probe(conn).read_path is ReadPath.FUNCTIONS
            else VERDICT_JOIN
        )
    )
    params = [
        rules.max_staleness,
        rules.min_data_timestamp,
        rules.within_schedule,
        rules.require_sla,
        *row.values(),
    ]
    with conn.transaction():
        # now() is the transaction's start: pin it, so ages are exact.
        conn.execute("SET LOCAL TimeZone = 'UTC'")
        conn.execute(f"SELECT set_config('pgtrickle_test.now', '{now.isoformat()}', true)")
        result = conn.execute(
            query.replace("now()", "current_setting('pgtrickle_test.now')::timestamptz"),
            params,
        ).fetchone()
    assert result is not None
    return result[0], result[1]


def test_active_populated_fresh_table_is_healthy(pgtrickle_conn: psycopg.Connection[Any]) -> None:
    assert verdict(pgtrickle_conn, rules=Rules(max_staleness=60)) == ("healthy", "is healthy")


@pytest.mark.parametrize(
    ("changes", "rules", "expected"),
    [
        (
            {"status": "INITIALIZING", "is_populated": False},
            Rules(),
            ("waiting", "is not populated yet"),
        ),
        (
            {"consecutive_errors": 2, "last_error_message": "boom"},
            Rules(),
            ("waiting", "has 2 consecutive refresh error(s); last: boom"),
        ),
        (
            {"consecutive_errors": 1},
            Rules(),
            ("waiting", "has 1 consecutive refresh error(s)"),
        ),
        (
            {"last_refresh_at": NOW - timedelta(seconds=61)},
            Rules(max_staleness=60),
            ("waiting", "is stale: last refreshed 71s ago, max_staleness is 60s"),
        ),
        (
            {"last_refresh_at": None},
            Rules(max_staleness=60),
            ("waiting", "is stale: last refreshed never, max_staleness is 60s"),
        ),
        (
            {"last_refresh_at": NOW - timedelta(minutes=5)},
            Rules(within_schedule=True),
            ("waiting", "is stale: last refreshed 310s ago, longer than its schedule 1m"),
        ),
        (
            {"data_timestamp": NOW - timedelta(hours=1), "last_refresh_at": NOW},
            Rules(min_data_timestamp=NOW + timedelta(seconds=1)),
            (
                "waiting",
                "was last refreshed 2025-06-01T12:00:00.000000Z, before the data interval end"
                " 2025-06-01T12:00:01.000000Z",
            ),
        ),
    ],
)
def test_waiting_reasons(
    pgtrickle_conn: psycopg.Connection[Any],
    changes: dict[str, object],
    rules: Rules,
    expected: tuple[str, str],
) -> None:
    assert verdict(pgtrickle_conn, rules=rules, **changes) == expected


def test_current_interval_is_judged_on_the_last_refresh(
    pgtrickle_conn: psycopg.Connection[Any],
) -> None:
    # A refresh that found nothing to change keeps data_timestamp but moves last_refresh_at.
    rules = Rules(min_data_timestamp=NOW)
    quiet = {"data_timestamp": NOW - timedelta(hours=1), "last_refresh_at": NOW}
    assert verdict(pgtrickle_conn, rules=rules, **quiet)[0] == "healthy"
    before = {"data_timestamp": NOW - timedelta(hours=1), "last_refresh_at": NOW - timedelta(1)}
    assert verdict(pgtrickle_conn, rules=rules, **before)[0] == "waiting"


@pytest.mark.parametrize("status", ["ERROR", "SUSPENDED"])
def test_error_and_suspended_fail_with_last_error(
    pgtrickle_conn: psycopg.Connection[Any], status: str
) -> None:
    found = verdict(pgtrickle_conn, status=status, last_error_message="division by zero")
    assert found == ("failed", f"is {status}: division by zero")
    assert verdict(pgtrickle_conn, status=status) == (
        "failed",
        f"is {status}: no error message recorded",
    )


@pytest.mark.parametrize("status", ["ACTIVE", "SUSPENDED"])
def test_a_blown_fuse_fails_whatever_the_status(
    pgtrickle_conn: psycopg.Connection[Any], status: str
) -> None:
    """Blowing the fuse suspends the table; resume_stream_table sets ACTIVE and leaves it
    blown, and the scheduler refreshes no table with a blown fuse (pg_trickle
    src/scheduler/mod.rs): failed either way, with the fuse's reason."""
    found = verdict(pgtrickle_conn, status=status, fuse_state="blown", blow_reason="too many")
    assert found == (
        "failed",
        "has a blown fuse (too many): refreshes are held until pgtrickle.reset_fuse",
    )
    assert verdict(pgtrickle_conn, status=status, fuse_state="blown")[1].startswith(
        "has a blown fuse (no reason recorded)"
    )


def test_a_leftover_error_message_alone_is_healthy(
    pgtrickle_conn: psycopg.Connection[Any],
) -> None:
    """pg_trickle writes the message only with status ERROR and clears it on every way back to
    ACTIVE (src/catalog.rs, set_error_state, update_after_refresh; src/api/alter.rs)."""
    found = verdict(pgtrickle_conn, last_error_message="old failure", consecutive_errors=0)
    assert found == ("healthy", "is healthy")


@pytest.mark.parametrize(
    "rules",
    [
        Rules(max_staleness=60),
        Rules(within_schedule=True),
        Rules(min_data_timestamp=NOW + timedelta(seconds=5)),
    ],
)
def test_immediate_tables_are_never_stale(
    pgtrickle_conn: psycopg.Connection[Any], rules: Rules
) -> None:
    """IMMEDIATE tables are maintained in the writing transaction (pg_trickle src/ivm.rs);
    their last_refresh_at moves only when a write changed them."""
    old = {"last_refresh_at": NOW - timedelta(hours=1), "data_timestamp": NOW - timedelta(1)}
    assert verdict(pgtrickle_conn, rules=rules, refresh_mode="IMMEDIATE", **old)[0] == "healthy"
    assert verdict(pgtrickle_conn, rules=rules, **old)[0] == "waiting"


def test_a_missing_table_is_judged_missing(pgtrickle_conn: psycopg.Connection[Any]) -> None:
    assert verdict(pgtrickle_conn, missing=True) == ("missing", "is not in the pg_trickle catalog")


def judged(name: str, state: Verdict = Verdict.HEALTHY, reason: str = "is healthy") -> Judged:
    return Judged(name, Rules(), state, reason, None)


def test_fail_on_error_false_keeps_waiting() -> None:
    failed = [judged("s.t", Verdict.FAILED, "is ERROR: x")]
    assert classify(failed, fail_on_error=True).state is HealthState.FAILED
    assert classify(failed, fail_on_error=False).state is HealthState.WAITING


def test_unknown_names_fail() -> None:
    report = classify(
        [judged("s.a"), judged("s.missing", Verdict.MISSING, "x")], fail_on_error=True
    )
    assert report.state is HealthState.FAILED
    assert report.missing == ("s.missing",)
    assert "`s.missing`" in report.message


def test_one_unhealthy_table_holds_back_the_others() -> None:
    report = classify([judged("s.a"), judged("s.b", Verdict.WAITING, "x")], fail_on_error=True)
    assert report.state is HealthState.WAITING
    assert [t.state for t in report.tables] == [HealthState.HEALTHY, HealthState.WAITING]


def test_no_tables_waits() -> None:
    assert classify([], fail_on_error=True).state is HealthState.WAITING


def test_query_binds_names_schema_and_rules_as_values() -> None:
    rules = Rules(60.0, NOW, True, True)
    _, params = health_query(["s.a", "s.b"], None, rules)
    assert params == [["s.a", "s.b"], [60.0, 60.0], [NOW, NOW], [True, True], [True, True]]
    _, params = health_query([], "analytics", rules)
    assert params == [[60.0], [NOW], [True], [True], "analytics"]
    _, params = health_query([], None)
    assert params == [[None], [None], [False], [False]]


def test_a_report_over_thousands_of_tables_stays_bounded() -> None:
    rows = [judged(f"s.t{i:04d}") for i in range(2000)]
    rows[1500] = judged("s.t1500", Verdict.WAITING, "has 1 consecutive refresh error(s)")
    rows[1700] = judged("s.t1700", Verdict.WAITING, "is not populated yet")
    report = classify(rows, fail_on_error=True)
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
    waiting = classify(
        [judged(f"s.t{i:04d}", Verdict.WAITING, "has 1") for i in range(2000)],
        fail_on_error=True,
    )
    assert waiting.message.count("`") == 20
    assert "`s.t0009` has 1" in waiting.message
    assert "s.t0010" not in waiting.message
    assert "and 1990 more waiting (2000 checked: 0 healthy, 2000 waiting" in waiting.message
    healthy = classify([judged(f"s.t{i:04d}") for i in range(2000)], fail_on_error=True)
    assert healthy.message.endswith("`s.t0009` and 1990 more healthy.")
    missing = classify(
        [judged(f"s.m{i}", Verdict.MISSING, "x") for i in range(50)], fail_on_error=True
    )
    assert missing.to_dict()["missing"] == [f"s.m{i}" for i in range(10)]
    assert missing.counts["missing"] == 50
    assert "`s.m9` and 40 more not found" in missing.message


# -- SUSPENDED by cause, error codes, freshness SLA (pg_trickle 0.79-0.96) -----------------

_PAUSED = {
    "status": "SUSPENDED",
    "needs_reinit": True,
    "refresh_reason": "SCHEMA_CHANGED",
}


def test_a_paused_table_is_paused_not_failed(pgtrickle_conn: psycopg.Connection[Any]) -> None:
    """pause_stream_table writes SUSPENDED plus the reinitialize mark and no error (pg_trickle
    src/api/alter.rs, pause_stream_table_impl)."""
    assert verdict(pgtrickle_conn, **_PAUSED) == (
        "paused",
        "is paused (SUSPENDED by pgtrickle.pause_stream_table, not by a failure): it refreshes"
        " again after pgtrickle.resume_stream_table",
    )


@pytest.mark.parametrize(
    "changes",
    [
        {"consecutive_errors": 3},  # suspended after errors, then marked by a source change
        {"last_error_message": "boom"},
        {"needs_reinit": False},
        {"refresh_reason": None},  # 0.67.0: no reason column at all
        {"fuse_state": "blown"},
    ],
)
def test_a_suspended_table_with_any_failure_evidence_is_not_paused(
    pgtrickle_conn: psycopg.Connection[Any], changes: dict[str, object]
) -> None:
    assert verdict(pgtrickle_conn, **{**_PAUSED, **changes})[0] == "failed"


def test_destructive_source_ddl_fails_with_its_reason_code(
    pgtrickle_conn: psycopg.Connection[Any],
) -> None:
    found = verdict(
        pgtrickle_conn,
        status="SUSPENDED",
        needs_reinit=True,
        refresh_reason="SOURCE_DESTRUCTIVE_SCHEMA",
        refresh_reason_detail="amount was renamed",
    )
    assert found == (
        "failed",
        "is SUSPENDED by destructive DDL on a source (SOURCE_DESTRUCTIVE_SCHEMA: amount was"
        " renamed): repair it with pgtrickle.reinitialize_stream_table",
    )
    # The underscore is literal: a reason merely starting with SOURCE is not DDL.
    assert verdict(pgtrickle_conn, status="SUSPENDED", refresh_reason="SOURCEX")[1].startswith(
        "is SUSPENDED: "
    )


def test_failure_verdicts_carry_the_error_code(pgtrickle_conn: psycopg.Connection[Any]) -> None:
    assert verdict(
        pgtrickle_conn, status="SUSPENDED", consecutive_errors=3, last_error_code="PERMANENT"
    ) == ("failed", "is SUSPENDED [PERMANENT]: no error message recorded")
    assert verdict(
        pgtrickle_conn,
        consecutive_errors=1,
        last_error_code="LOCK_TIMEOUT",
        last_error_message="canceling statement due to lock timeout",
    ) == (
        "waiting",
        "has 1 consecutive refresh error(s) [LOCK_TIMEOUT]; last: canceling statement due to"
        " lock timeout",
    )


def test_without_a_deadline_the_sla_is_not_applicable(
    pgtrickle_conn: psycopg.Connection[Any],
) -> None:
    """Requiring MEETING of a table without an interval target fails: it never has one."""
    assert verdict(pgtrickle_conn, rules=Rules(require_sla=True))[0] == "failed"
    assert verdict(pgtrickle_conn)[0] == "healthy"  # not required: no rule applies
