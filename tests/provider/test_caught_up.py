"""`wait_for_sources=True`: healthy also means every source change committed before the sensor
started is refreshed into the table (read from pg_trickle's change buffers and frontier)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import psycopg
import pytest
from airflow_support import TaskDeferred

from airflow_provider_pgtrickle.exceptions import PgTrickleValidationError
from airflow_provider_pgtrickle.hooks.pgtrickle import PgTrickleHook
from airflow_provider_pgtrickle.sensors.pgtrickle import PgTrickleHealthSensor
from airflow_provider_pgtrickle.triggers.pgtrickle import PgTrickleHealthTrigger, hub_for

from .conftest import ORDERS_QUERY
from .test_trigger_shared import KEY, Triggerer, shared_streams_only, until

ST = "public.order_totals"


def sensor(**kwargs: Any) -> PgTrickleHealthSensor:
    options: dict[str, Any] = {
        "task_id": "caught_up",
        "stream_tables": [ST],
        "poke_interval": 600,
        "timeout": 600,
        "wait_for_sources": True,
    }
    options.update(kwargs)
    return PgTrickleHealthSensor(**options)


@pytest.fixture
def order_totals(hook: PgTrickleHook, orders: str) -> str:
    hook.create_stream_table(ST, ORDERS_QUERY, schedule="calculated")
    return ST


@pytest.mark.usefixtures("pgtrickle_airflow_conn", "order_totals")
def test_poke_waits_for_earlier_source_changes_until_a_refresh(
    pgtrickle_conn: psycopg.Connection[Any], hook: PgTrickleHook
) -> None:
    pgtrickle_conn.execute("INSERT INTO public.orders VALUES (4, 3, 1)")
    s = sensor(deferrable=False)
    s._start_sources_wait()
    waiting = s.poke({})
    assert waiting.is_done is False
    assert s._last_report is not None
    assert "1 source change(s) committed before the sensor started" in s._last_report.message
    # Without the option the same table counts as healthy now.
    plain = PgTrickleHealthSensor(task_id="plain", stream_tables=[ST], poke_interval=0)
    assert plain.poke({}).is_done is True

    hook.refresh_stream_table(ST)
    assert s.poke({}).is_done is True


@pytest.mark.usefixtures("pgtrickle_airflow_conn", "order_totals")
def test_changes_committed_after_the_start_do_not_hold_the_sensor(
    pgtrickle_conn: psycopg.Connection[Any],
) -> None:
    s = sensor(deferrable=False)
    s._start_sources_wait()
    pgtrickle_conn.execute("INSERT INTO public.orders VALUES (4, 3, 1)")
    assert s.poke({}).is_done is True


@shared_streams_only
@pytest.mark.usefixtures("pgtrickle_airflow_conn", "order_totals")
def test_deferred_sensor_waits_in_the_shared_stream_until_the_scheduler_refreshes(
    pgtrickle_conn: psycopg.Connection[Any],
    pgtrickle_tick: Callable[[], list[dict[str, Any]]],
) -> None:
    pgtrickle_conn.execute("INSERT INTO public.orders VALUES (4, 3, 1)")
    with pytest.raises(TaskDeferred) as info:
        sensor(deferrable=True).execute({})
    trigger = info.value.trigger
    assert isinstance(trigger, PgTrickleHealthTrigger)
    assert trigger.sources_since is not None

    async def scenario() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        triggerer = Triggerer()
        try:
            triggerer.start([trigger])
            hub = hub_for(KEY)
            await until(lambda: hub.queries >= 1)
            await asyncio.sleep(0.5)
            before = list(triggerer.events[0])
            await asyncio.to_thread(pgtrickle_tick)
            return before, await triggerer.finished(timeout=30)
        finally:
            await triggerer.stop()

    before, [event] = asyncio.run(scenario())
    assert before == []
    assert event["status"] == "success"


def test_reschedule_mode_is_refused_before_anything_runs() -> None:
    with pytest.raises(PgTrickleValidationError, match="mode is 'reschedule'"):
        sensor(mode="reschedule")
