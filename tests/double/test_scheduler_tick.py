"""The double's synchronous scheduler tick (`pgtrickle_test.run_scheduler_tick()`), failure
injection and ageing. These helpers exist only on the double, so every test needs it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import psycopg
import pytest
from psycopg.rows import dict_row

from airflow_provider_pgtrickle.testing.server import TestDatabase

pytestmark = pytest.mark.requires_double

Conn = psycopg.Connection[Any]
Tick = Callable[[], list[dict[str, Any]]]


def q(conn: Conn, query: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
    with conn.cursor(row_factory=dict_row) as cur:
        cur.execute(query, params)  # type: ignore[arg-type]
        return cur.fetchall()


def catalog(conn: Conn, name: str) -> dict[str, Any]:
    found = q(conn, "SELECT * FROM pgtrickle.pgt_stream_tables WHERE pgt_name = %s", [name])
    assert len(found) == 1
    return found[0]


def history(conn: Conn, name: str) -> list[dict[str, Any]]:
    return q(
        conn,
        "SELECT h.* FROM pgtrickle.pgt_refresh_history h JOIN pgtrickle.pgt_stream_tables s"
        " USING (pgt_id) WHERE s.pgt_name = %s ORDER BY h.refresh_id",
        [name],
    )


def attempts(result: list[dict[str, Any]]) -> dict[str, tuple[str, str]]:
    return {r["pgt_name"]: (r["action"], r["status"]) for r in result}


@pytest.fixture
def src(pgtrickle_conn: Conn) -> Conn:
    pgtrickle_conn.execute("CREATE TABLE src (id integer PRIMARY KEY, v integer)")
    pgtrickle_conn.execute("INSERT INTO src VALUES (1, 10), (2, 20), (3, 30)")
    return pgtrickle_conn


def create(conn: Conn, name: str, query: str = "SELECT id, v FROM src", **kwargs: Any) -> None:
    args = {"schedule": "1m", "refresh_mode": "DIFFERENTIAL", **kwargs}
    named = ", ".join(f"{k} => %s" for k in args)
    conn.execute(
        f"SELECT pgtrickle.create_stream_table(%s, %s, {named})", [name, query, *args.values()]
    )


def age(conn: Conn, name: str, by: str = "1 hour") -> None:
    conn.execute("SELECT pgtrickle_test.age_stream_table(%s, %s::interval)", [name, by])


def test_fresh_table_is_not_due(src: Conn, pgtrickle_tick: Tick) -> None:
    create(src, "t")
    assert pgtrickle_tick() == []
    assert [h["initiated_by"] for h in history(src, "t")] == ["INITIAL"]


def test_elapsed_schedule_without_changes_is_no_data(src: Conn, pgtrickle_tick: Tick) -> None:
    create(src, "t")
    age(src, "t")
    before = catalog(src, "t")
    assert attempts(pgtrickle_tick()) == {"t": ("NO_DATA", "COMPLETED")}
    after = catalog(src, "t")
    assert after["last_refresh_at"] > before["last_refresh_at"]
    assert after["data_timestamp"] == before["data_timestamp"]
    last = history(src, "t")[-1]
    assert (last["action"], last["status"], last["initiated_by"]) == (
        "NO_DATA",
        "COMPLETED",
        "SCHEDULER",
    )
    # last_refresh_at moved, so the table is no longer due.
    assert pgtrickle_tick() == []


def test_pending_changes_give_a_differential_refresh(src: Conn, pgtrickle_tick: Tick) -> None:
    create(src, "t")
    src.execute("INSERT INTO src VALUES (4, 40)")
    src.execute("DELETE FROM src WHERE id = 1")
    pending = q(src, "SELECT pending_rows FROM pgtrickle.change_buffer_sizes()")
    assert pending == [{"pending_rows": 2}]
    age(src, "t")
    assert attempts(pgtrickle_tick()) == {"t": ("DIFFERENTIAL", "COMPLETED")}
    last = history(src, "t")[-1]
    # As pg_trickle's execute_differential_refresh: every row the merge wrote, as inserted.
    assert (last["rows_inserted"], last["rows_deleted"], last["initiated_by"]) == (
        2,
        0,
        "SCHEDULER",
    )
    assert q(src, "SELECT id, v FROM t ORDER BY id") == q(src, "SELECT id, v FROM src ORDER BY id")
    assert q(src, "SELECT pending_rows FROM pgtrickle.change_buffer_sizes()") == [
        {"pending_rows": 0}
    ]


def test_uninitialized_table_is_populated_with_full(src: Conn, pgtrickle_tick: Tick) -> None:
    create(src, "t", initialize=False)
    assert attempts(pgtrickle_tick()) == {"t": ("FULL", "COMPLETED")}
    entry = catalog(src, "t")
    assert (entry["status"], entry["is_populated"]) == ("ACTIVE", True)
    assert len(q(src, "SELECT * FROM t")) == 3


def test_tier_multiplies_duration(src: Conn, pgtrickle_tick: Tick) -> None:
    create(src, "t")
    src.execute("SELECT pgtrickle.alter_stream_table('t', tier => 'cold')")
    age(src, "t", "5 minutes")  # 5m < 1m x 10
    assert pgtrickle_tick() == []
    age(src, "t", "6 minutes")
    assert attempts(pgtrickle_tick()) == {"t": ("NO_DATA", "COMPLETED")}


def test_frozen_suspended_and_immediate_tables_are_skipped(src: Conn, pgtrickle_tick: Tick) -> None:
    create(src, "frozen_t")
    src.execute("SELECT pgtrickle.alter_stream_table('frozen_t', tier => 'frozen')")
    create(src, "susp_t")
    src.execute("SELECT pgtrickle.alter_stream_table('susp_t', status => 'SUSPENDED')")
    create(src, "imm_t", refresh_mode="IMMEDIATE")
    for name in ("frozen_t", "susp_t"):
        age(src, name)
    src.execute("INSERT INTO src VALUES (4, 40)")
    assert pgtrickle_tick() == []
    # IMMEDIATE is maintained by the writing statement itself.
    assert len(q(src, "SELECT * FROM imm_t")) == 4


def test_unpopulated_frozen_table_is_refreshed(src: Conn, pgtrickle_tick: Tick) -> None:
    """pg_trickle src/scheduler/mod.rs, check_schedule: an unpopulated table is due before its
    tier is looked at; once populated, frozen keeps the scheduler away."""
    create(src, "cold_start", initialize=False)
    src.execute("SELECT pgtrickle.alter_stream_table('cold_start', tier => 'frozen')")
    assert attempts(pgtrickle_tick()) == {"cold_start": ("FULL", "COMPLETED")}
    assert catalog(src, "cold_start")["is_populated"] is True
    age(src, "cold_start")
    assert pgtrickle_tick() == []


def test_topk_tick_without_changes_writes_no_catalog_timestamp(
    src: Conn, pgtrickle_tick: Tick
) -> None:
    """pg_trickle src/scheduler/mod.rs, execute_scheduled_refresh: a TopK table's NO_DATA
    action runs its MERGE and records history, and no catalog column moves; with changes a
    DIFFERENTIAL action writes last_refresh_at and data_timestamp but never the frontier, so
    its changes stay pending for the next due tick."""
    create(src, "top", "SELECT id, v FROM src ORDER BY v DESC LIMIT 2")
    age(src, "top")
    before = catalog(src, "top")
    assert attempts(pgtrickle_tick()) == {"top": ("NO_DATA", "COMPLETED")}
    after = catalog(src, "top")
    for column in ("last_refresh_at", "data_timestamp", "frontier"):
        assert after[column] == before[column], column
    assert history(src, "top")[-1]["action"] == "NO_DATA"

    src.execute("INSERT INTO src VALUES (4, 40)")
    assert attempts(pgtrickle_tick()) == {"top": ("DIFFERENTIAL", "COMPLETED")}
    changed = catalog(src, "top")
    assert changed["last_refresh_at"] > after["last_refresh_at"]
    assert changed["data_timestamp"] > after["data_timestamp"]
    assert changed["frontier"] == before["frontier"]
    assert q(src, "SELECT id, v FROM top ORDER BY v") == [{"id": 3, "v": 30}, {"id": 4, "v": 40}]
    age(src, "top")
    assert attempts(pgtrickle_tick()) == {"top": ("DIFFERENTIAL", "COMPLETED")}


def test_calculated_table_refreshes_only_with_pending_changes(
    src: Conn, pgtrickle_tick: Tick
) -> None:
    create(src, "t", schedule="calculated")
    assert pgtrickle_tick() == []
    src.execute("UPDATE src SET v = v + 1 WHERE id = 1")
    assert attempts(pgtrickle_tick()) == {"t": ("DIFFERENTIAL", "COMPLETED")}
    assert pgtrickle_tick() == []


def test_downstream_follows_upstream_in_the_same_tick(src: Conn, pgtrickle_tick: Tick) -> None:
    create(src, "up")
    create(src, "down", "SELECT count(*) AS n FROM up", schedule="calculated")
    src.execute("INSERT INTO src VALUES (4, 40)")
    age(src, "up")
    result = pgtrickle_tick()
    assert [r["pgt_name"] for r in result] == ["up", "down"]
    assert q(src, "SELECT n FROM down") == [{"n": 4}]


def test_retryable_failures_count_then_suspend(
    pgtrickle_db: TestDatabase, src: Conn, pgtrickle_tick: Tick
) -> None:
    create(src, "t")
    src.execute("SELECT pgtrickle_test.inject_failure('t', 'simulated outage')")
    for expected_errors in (1, 2):
        age(src, "t")
        assert pgtrickle_tick() == [
            {
                "pgt_schema": "public",
                "pgt_name": "t",
                "action": "DIFFERENTIAL",
                "status": "FAILED",
                "error_message": "simulated outage",
            }
        ]
        entry = catalog(src, "t")
        assert (entry["status"], entry["consecutive_errors"]) == ("ACTIVE", expected_errors)
    age(src, "t")
    assert attempts(pgtrickle_tick()) == {"t": ("DIFFERENTIAL", "FAILED")}
    entry = catalog(src, "t")
    assert (entry["status"], entry["consecutive_errors"]) == ("SUSPENDED", 3)
    failed = [h for h in history(src, "t") if h["status"] == "FAILED"]
    assert len(failed) == 3
    assert {h["error_message"] for h in failed} == {"simulated outage"}
    # Suspended tables are no longer attempted; resume clears the streak.
    assert pgtrickle_tick() == []
    src.execute("SELECT pgtrickle.resume_stream_table('t')")
    src.execute("SELECT pgtrickle_test.clear_failures()")
    with pgtrickle_db.connect() as other:
        entry = catalog(other, "t")
        assert (entry["status"], entry["consecutive_errors"]) == ("ACTIVE", 0)


def test_success_resets_the_error_streak(src: Conn, pgtrickle_tick: Tick) -> None:
    create(src, "t")
    src.execute("SELECT pgtrickle_test.inject_failure('t', 'flaky')")
    age(src, "t")
    pgtrickle_tick()
    assert catalog(src, "t")["consecutive_errors"] == 1
    src.execute("SELECT pgtrickle_test.clear_failures()")
    age(src, "t")
    assert attempts(pgtrickle_tick()) == {"t": ("NO_DATA", "COMPLETED")}
    assert catalog(src, "t")["consecutive_errors"] == 0


def test_permanent_failure_sets_error_state(src: Conn, pgtrickle_tick: Tick) -> None:
    create(src, "t")
    src.execute("SELECT pgtrickle_test.inject_failure('t', 'query is broken', permanent => true)")
    age(src, "t")
    assert attempts(pgtrickle_tick()) == {"t": ("DIFFERENTIAL", "FAILED")}
    entry = catalog(src, "t")
    assert (entry["status"], entry["last_error_message"]) == ("ERROR", "query is broken")
    assert entry["last_error_at"] is not None
    with pytest.raises(psycopg.errors.InvalidParameterValue):
        src.execute("SELECT pgtrickle.refresh_stream_table('t')")


def test_real_query_error_is_permanent(src: Conn, pgtrickle_tick: Tick) -> None:
    create(src, "t", "SELECT id, 100 / v AS r FROM src")
    src.execute("UPDATE src SET v = 0 WHERE id = 1")
    age(src, "t")
    result = pgtrickle_tick()
    assert attempts(result) == {"t": ("DIFFERENTIAL", "FAILED")}
    assert result[0]["error_message"] == "division by zero"
    assert catalog(src, "t")["status"] == "ERROR"


def test_one_failure_does_not_abort_the_tick(src: Conn, pgtrickle_tick: Tick) -> None:
    create(src, "a")
    create(src, "b")
    src.execute("SELECT pgtrickle_test.inject_failure('a', 'boom')")
    src.execute("INSERT INTO src VALUES (4, 40)")
    age(src, "a")
    age(src, "b")
    assert attempts(pgtrickle_tick()) == {
        "a": ("DIFFERENTIAL", "FAILED"),
        "b": ("DIFFERENTIAL", "COMPLETED"),
    }
    assert len(q(src, "SELECT * FROM b")) == 4
    assert len(q(src, "SELECT * FROM a")) == 3


def test_injected_failure_does_not_affect_manual_refresh(src: Conn) -> None:
    create(src, "t")
    src.execute("SELECT pgtrickle_test.inject_failure('t', 'boom')")
    src.execute("INSERT INTO src VALUES (4, 40)")
    src.execute("SELECT pgtrickle.refresh_stream_table('t')")
    assert history(src, "t")[-1]["initiated_by"] == "MANUAL"
    assert len(q(src, "SELECT * FROM t")) == 4


def test_locked_table_is_skipped(
    pgtrickle_db: TestDatabase, src: Conn, pgtrickle_tick: Tick
) -> None:
    create(src, "t")
    age(src, "t")
    with pgtrickle_db.connect() as holder:
        holder.execute("BEGIN")
        holder.execute("SELECT pgtrickle.refresh_stream_table('t')")
        assert attempts(pgtrickle_tick()) == {"t": ("SKIP", "SKIPPED")}
        holder.execute("ROLLBACK")


def test_cron_schedule_is_evaluated(src: Conn, pgtrickle_tick: Tick) -> None:
    create(src, "t", schedule="@hourly")
    assert pgtrickle_tick() == []
    age(src, "t", "61 minutes")
    assert attempts(pgtrickle_tick()) == {"t": ("NO_DATA", "COMPLETED")}


def test_age_shifts_history_too(src: Conn) -> None:
    create(src, "t")
    before = history(src, "t")[0]
    age(src, "t", "1 day")
    after = history(src, "t")[0]
    assert before["start_time"] - after["start_time"] == before["end_time"] - after["end_time"]
    assert str(before["start_time"] - after["start_time"]) == "1 day, 0:00:00"


def test_unknown_name_is_an_error(pgtrickle_conn: Conn) -> None:
    with pytest.raises(psycopg.errors.UndefinedTable):
        pgtrickle_conn.execute("SELECT pgtrickle_test.inject_failure('nope', 'x')")
