"""PgTrickleHealthSensor through `poke()` / `execute()` with a real connection."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from airflow_support import TaskDeferred

from airflow_provider_pgtrickle.exceptions import (
    PgTrickleSensorTimeout,
    PgTrickleUnhealthyError,
    PgTrickleValidationError,
)
from airflow_provider_pgtrickle.hooks.pgtrickle import PgTrickleHook
from airflow_provider_pgtrickle.sensors.pgtrickle import PgTrickleHealthSensor
from airflow_provider_pgtrickle.testing.server import TestDatabase
from airflow_provider_pgtrickle.triggers.pgtrickle import PgTrickleHealthTrigger

from .conftest import ORDERS_QUERY

ST = "public.order_totals"


def sensor(**kwargs: Any) -> PgTrickleHealthSensor:
    options: dict[str, Any] = {
        "task_id": "healthy",
        "stream_tables": [ST],
        "poke_interval": 0,
        "timeout": 0,
        "deferrable": False,
    }
    options.update(kwargs)
    return PgTrickleHealthSensor(**options)


def test_poke_healthy_and_waiting(
    pgtrickle_airflow_conn: str, hook: PgTrickleHook, orders: str
) -> None:
    hook.create_stream_table(ST, ORDERS_QUERY, initialize=False)
    waiting = sensor().poke({})
    assert waiting.is_done is False
    hook.refresh_stream_table(ST)
    done = sensor(max_staleness=timedelta(hours=1)).poke({})
    assert done.is_done is True
    assert done.xcom_value["state"] == "healthy"
    assert done.xcom_value["tables"][0]["stream_table"] == ST


def test_error_fails_at_once_with_the_table_in_the_message(
    pgtrickle_airflow_conn: str, hook: PgTrickleHook, orders: str
) -> None:
    hook.create_stream_table(ST, ORDERS_QUERY)
    hook.alter_stream_table(ST, status="ERROR")
    with pytest.raises(PgTrickleUnhealthyError, match=r"`public.order_totals` is ERROR"):
        sensor(timeout=3600).execute({})
    assert sensor(fail_on_error=False).poke({}).is_done is False


@pytest.mark.requires_double
def test_error_message_carries_last_error(
    pgtrickle_airflow_conn: str,
    hook: PgTrickleHook,
    orders: str,
    admin_conn: Any,
    pgtrickle_tick: Any,
) -> None:
    hook.create_stream_table(ST, ORDERS_QUERY, schedule="1s")
    admin_conn.execute("SELECT pgtrickle_test.inject_failure(%s, %s, true)", [ST, "disk on fire"])
    admin_conn.execute("SELECT pgtrickle_test.age_stream_table(%s, '1 hour')", [ST])
    pgtrickle_tick()
    with pytest.raises(PgTrickleUnhealthyError, match="disk on fire"):
        sensor().poke({})


@pytest.mark.requires_double
def test_auto_suspended_table_reports_the_failure(
    pgtrickle_airflow_conn: str,
    hook: PgTrickleHook,
    orders: str,
    admin_conn: Any,
    pgtrickle_tick: Any,
) -> None:
    # Retryable failures suspend the table after max_consecutive_errors (3) without setting
    # last_error_message; the reason is only in the history.
    hook.create_stream_table(ST, ORDERS_QUERY, schedule="1s")
    admin_conn.execute("SELECT pgtrickle_test.inject_failure(%s, %s)", [ST, "disk on fire"])
    for _ in range(3):
        admin_conn.execute("SELECT pgtrickle_test.age_stream_table(%s, '1 hour')", [ST])
        pgtrickle_tick()
    # pg_trickle's own record, read as its owner (the catalog is granted to no role on 0.108.3).
    status, message = admin_conn.execute(
        "SELECT status, last_error_message FROM pgtrickle.pgt_stream_tables"
        " WHERE pgt_schema || '.' || pgt_name = %s",
        [ST],
    ).fetchone()
    assert status == "SUSPENDED"
    assert message is None
    # The error code where the server types refresh errors and the catalog is read.
    with pytest.raises(
        PgTrickleUnhealthyError, match=r"SUSPENDED( \[UNKNOWN_RETRYABLE\])?: disk on fire"
    ):
        sensor().poke({})


def test_unknown_names_fail_at_once(
    pgtrickle_airflow_conn: str, hook: PgTrickleHook, orders: str
) -> None:
    hook.create_stream_table(ST, ORDERS_QUERY)
    with pytest.raises(PgTrickleUnhealthyError, match=r"`public\.nope` not found"):
        sensor(stream_tables=[ST, "public.nope"]).poke({})


def test_schema_and_whole_catalog(
    pgtrickle_airflow_conn: str, hook: PgTrickleHook, orders: str
) -> None:
    assert sensor(stream_tables=None, schema="public").poke({}).is_done is False
    hook.create_stream_table(ST, ORDERS_QUERY)
    assert sensor(stream_tables=None, schema="public").poke({}).is_done is True
    assert sensor(stream_tables=None).poke({}).is_done is True
    with pytest.raises(PgTrickleValidationError, match="not both"):
        sensor(schema="public")


def test_one_query_per_poke(
    pgtrickle_airflow_conn: str, hook: PgTrickleHook, orders: str, sent: Any
) -> None:
    names = [f"public.t{i}" for i in range(5)]
    for name in names:
        hook.create_stream_table(name, "SELECT id FROM public.orders")
    sent.mark()
    poking = sensor(stream_tables=names)
    assert poking.poke({}).is_done is True
    # The first poke also probes what the server offers (once per sensor: its hook caches
    # it; `capabilities.PROBE_QUERY`), every poke after it is the health query alone.
    first = sent.statements()
    assert len(first) == 2
    assert "AS reader_role" in first[0]
    sent.mark()
    assert poking.poke({}).is_done is True
    assert len(sent.statements()) == 1


def test_require_current_interval(
    pgtrickle_airflow_conn: str, hook: PgTrickleHook, orders: str
) -> None:
    hook.create_stream_table(ST, ORDERS_QUERY)
    past = datetime.now(timezone.utc) - timedelta(days=1)
    future = datetime.now(timezone.utc) + timedelta(days=1)
    s = sensor(require_current_interval=True)
    assert s.poke({"data_interval_end": past}).is_done is True
    waiting = s.poke({"data_interval_end": future})
    assert waiting.is_done is False
    with pytest.raises(PgTrickleValidationError, match="needs a data interval"):
        s.poke({})


def test_require_current_interval_counts_a_refresh_that_changed_nothing(
    pgtrickle_airflow_conn: str, hook: PgTrickleHook, orders: str, admin_conn: Any
) -> None:
    # pg_trickle keeps data_timestamp on a refresh with nothing to apply (src/api/refresh_ops.rs,
    # execute_manual_differential_refresh; the scheduler's NO_DATA pass likewise) and moves
    # only last_refresh_at: a quiet source must not hold the sensor until its timeout.
    hook.create_stream_table(ST, ORDERS_QUERY, schedule="1h", refresh_mode="DIFFERENTIAL")
    created = admin_conn.execute(
        "SELECT data_timestamp FROM pgtrickle.pgt_stream_tables WHERE pgt_name = 'order_totals'"
    ).fetchone()[0]
    interval_end = datetime.now(timezone.utc)
    s = sensor(require_current_interval=True)
    waiting = s.poke({"data_interval_end": interval_end})
    assert waiting.is_done is False
    hook.refresh_stream_table(ST)
    kept, refreshed = admin_conn.execute(
        "SELECT data_timestamp, last_refresh_at FROM pgtrickle.pgt_stream_tables"
        " WHERE pgt_name = 'order_totals'"
    ).fetchone()
    assert kept == created < interval_end <= refreshed
    assert s.poke({"data_interval_end": interval_end}).is_done is True


TOPK = "public.top_orders"
TOPK_QUERY = "SELECT id, amount FROM public.orders ORDER BY amount DESC LIMIT 2"


def test_a_manual_topk_refresh_counts_for_the_interval_and_for_staleness(
    pgtrickle_airflow_conn: str, hook: PgTrickleHook, orders: str, admin_conn: Any
) -> None:
    # A manual refresh of a TopK table writes no catalog timestamp (pg_trickle
    # src/api/refresh_ops.rs, execute_manual_refresh: the TopK path); the refresh history
    # has it (vocabulary.health, the last completed refresh).
    hook.create_stream_table(TOPK, TOPK_QUERY, schedule="1h")
    admin_conn.execute(
        "UPDATE pgtrickle.pgt_stream_tables SET last_refresh_at = last_refresh_at"
        " - interval '1 hour', data_timestamp = data_timestamp - interval '1 hour'"
        " WHERE pgt_name = 'top_orders'"
    )
    admin_conn.execute(
        "UPDATE pgtrickle.pgt_refresh_history SET start_time = start_time - interval '1 hour'"
    )
    interval_end = datetime.now(timezone.utc)
    s = sensor(stream_tables=[TOPK], require_current_interval=True, max_staleness=600)
    waiting = s.poke({"data_interval_end": interval_end})
    assert waiting.is_done is False
    hook.refresh_stream_table(TOPK)
    stamps = admin_conn.execute(
        "SELECT data_timestamp, last_refresh_at FROM pgtrickle.pgt_stream_tables"
        " WHERE pgt_name = 'top_orders'"
    ).fetchone()
    assert max(stamps) < interval_end  # pg_trickle moved neither
    healthy = s.poke({"data_interval_end": interval_end})
    assert healthy.is_done is True, s._last_report


def test_poke_mode_timeout_says_why(
    pgtrickle_airflow_conn: str, hook: PgTrickleHook, orders: str
) -> None:
    hook.create_stream_table(ST, ORDERS_QUERY, initialize=False)
    with pytest.raises(PgTrickleSensorTimeout, match="not populated yet"):
        sensor(timeout=0).execute({})


def test_deferrable_checks_once_then_defers_with_a_deadline(
    pgtrickle_airflow_conn: str, hook: PgTrickleHook, orders: str
) -> None:
    hook.create_stream_table(ST, ORDERS_QUERY, initialize=False)
    s = sensor(deferrable=True, timeout=600, poke_interval=5, max_staleness=60)
    with pytest.raises(TaskDeferred) as info:
        s.execute({})
    trigger = info.value.trigger
    assert isinstance(trigger, PgTrickleHealthTrigger)
    assert info.value.timeout is None
    assert info.value.method_name == "execute_complete"
    _, kwargs = trigger.serialize()
    assert kwargs["stream_tables"] == [ST]
    assert kwargs["max_staleness"] == 60.0
    assert kwargs["poll_interval"] == 5.0
    deadline = datetime.fromisoformat(kwargs["deadline"])
    assert deadline > datetime.now(timezone.utc)
    hook.refresh_stream_table(ST)
    assert s.execute({})["state"] == "healthy"


def test_deferrable_fails_before_deferring(
    pgtrickle_airflow_conn: str, hook: PgTrickleHook, orders: str
) -> None:
    hook.create_stream_table(ST, ORDERS_QUERY)
    # ERROR: a SUSPENDED table may be merely paused, which is waited for
    # (tests/provider/test_suspend_reasons.py).
    hook.alter_stream_table(ST, status="ERROR")
    with pytest.raises(PgTrickleUnhealthyError, match="ERROR"):
        sensor(deferrable=True, timeout=600).execute({})


def test_execute_complete() -> None:
    s = sensor(deferrable=True)
    report = {"state": "healthy", "message": "ok", "tables": [], "missing": []}
    event = {"status": "success", "message": "ok", "tables": [ST], "report": report}
    assert s.execute_complete({}, event) == report
    with pytest.raises(PgTrickleUnhealthyError, match="boom"):
        s.execute_complete({}, {"status": "error", "message": "boom", "tables": [ST]})
    with pytest.raises(PgTrickleSensorTimeout, match="late"):
        s.execute_complete({}, {"status": "timeout", "message": "late", "tables": [ST]})


def test_default_deferrable_comes_from_config() -> None:
    s = PgTrickleHealthSensor(task_id="x", stream_tables=ST)
    assert s.deferrable is False
    assert s.postgres_conn_id == "postgres_default"


def test_templated_names_are_checked_when_poked(
    pgtrickle_airflow_conn: str, pgtrickle_db: TestDatabase, sent: Any
) -> None:
    s = sensor(stream_tables=["{{ params.table }}"])
    sent.mark()
    with pytest.raises(PgTrickleValidationError):
        s.poke({})
    assert sent.statements() == []


def test_deferrable_defers_while_the_database_is_briefly_unreachable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A refused connection at the first check hands the wait to the trigger, which retries."""
    import socket

    with socket.socket() as probe:  # a port with nothing listening: connection refused
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("AIRFLOW_CONN_NOBODY_HOME", f"postgres://airflow@127.0.0.1:{port}/db")
    s = sensor(postgres_conn_id="nobody_home", deferrable=True, timeout=60)

    with pytest.raises(TaskDeferred) as info:
        s.execute({})

    assert isinstance(info.value.trigger, PgTrickleHealthTrigger)
    assert info.value.trigger.postgres_conn_id == "nobody_home"


def test_an_unknown_stream_table_is_one_error_class_everywhere(
    pgtrickle_airflow_conn: str, hook: PgTrickleHook, orders: str
) -> None:
    """Operators, the poking sensor and the deferred sensor (the trigger's error event) raise
    `StreamTableNotFoundError` for an unknown name: no retry, and still a
    `PgTrickleUnhealthyError` for code that caught the sensor's earlier error."""
    import asyncio

    from airflow_provider_pgtrickle._compat import AirflowFailException
    from airflow_provider_pgtrickle.exceptions import StreamTableNotFoundError
    from airflow_provider_pgtrickle.operators.pgtrickle import PgTrickleRefreshOperator

    from .test_operators import context
    from .test_trigger import events, trigger

    hook.create_stream_table(ST, ORDERS_QUERY)
    errors: dict[str, BaseException] = {}
    with pytest.raises(StreamTableNotFoundError) as operator_error:
        PgTrickleRefreshOperator(task_id="r", stream_tables="public.nope").execute(context())
    errors["operator"] = operator_error.value
    with pytest.raises(PgTrickleUnhealthyError) as poke_error:
        sensor(stream_tables=[ST, "public.nope"]).poke({})
    errors["poke"] = poke_error.value

    [event] = asyncio.run(events(trigger(stream_tables=[ST, "public.nope"])))
    assert event["status"] == "error"
    with pytest.raises(PgTrickleUnhealthyError) as deferred_error:
        sensor(deferrable=True).execute_complete({}, event)
    errors["deferred"] = deferred_error.value

    for where, error in errors.items():
        assert type(error) is StreamTableNotFoundError, where
        assert isinstance(error, AirflowFailException), where
        assert error.sqlstate == "42P01", where
        assert "`public.nope`" in str(error), where
