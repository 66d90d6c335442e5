"""`wait_for_sources=True`: healthy also means every source change committed before the sensor
started is refreshed into the table (read from pg_trickle's change buffers and frontier)."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import psycopg
import pytest
from airflow_support import TaskDeferred
from psycopg import sql

from airflow_provider_pgtrickle import _caught_up
from airflow_provider_pgtrickle.exceptions import (
    PgTrickleSourcesUncheckableError,
    PgTrickleValidationError,
)
from airflow_provider_pgtrickle.hooks.pgtrickle import PgTrickleHook
from airflow_provider_pgtrickle.sensors.pgtrickle import PgTrickleHealthSensor
from airflow_provider_pgtrickle.testing.server import TestDatabase
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
    if _caught_up.counts_buffers(hook.capabilities()):
        assert "1 source change(s) committed before the sensor started" in s._last_report.message
    else:  # the read functions' path (0.96.0+): the refresh rule
        assert "has completed no refresh since the sensor started" in s._last_report.message
    # Without the option the same table counts as healthy now.
    plain = PgTrickleHealthSensor(task_id="plain", stream_tables=[ST], poke_interval=0)
    assert plain.poke({}).is_done is True

    hook.refresh_stream_table(ST)
    assert s.poke({}).is_done is True


@pytest.mark.usefixtures("pgtrickle_airflow_conn", "order_totals")
def test_changes_committed_after_the_start_do_not_hold_the_sensor(
    pgtrickle_conn: psycopg.Connection[Any], hook: PgTrickleHook
) -> None:
    s = sensor(deferrable=False)
    s._start_sources_wait()
    pgtrickle_conn.execute("INSERT INTO public.orders VALUES (4, 3, 1)")
    if not _caught_up.counts_buffers(hook.capabilities()):
        # The refresh rule cannot tell later changes from earlier ones: it waits for the
        # next completed refresh (docs/pg_trickle-contract.md, section 11).
        assert s.poke({}).is_done is False
        hook.refresh_stream_table(ST)
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


TOPK = "public.top_orders"


@pytest.mark.usefixtures("pgtrickle_airflow_conn", "orders")
def test_topk_table_is_caught_up_after_a_refresh_started_after_the_sensor(
    pgtrickle_conn: psycopg.Connection[Any],
    hook: PgTrickleHook,
    admin_conn: psycopg.Connection[Any],
) -> None:
    # A TopK refresh stores no frontier, so its source's buffer rows stay (pg_trickle
    # src/refresh/merge/insert.rs, execute_topk_refresh): judged by the refresh history.
    hook.create_stream_table(
        TOPK,
        "SELECT id, amount FROM public.orders ORDER BY amount DESC LIMIT 2",
        schedule="1h",
        cdc_mode="trigger",
    )
    pgtrickle_conn.execute("INSERT INTO public.orders VALUES (4, 3, 100)")
    s = sensor(deferrable=False, stream_tables=[TOPK])
    s._start_sources_wait()
    assert s.poke({}).is_done is False
    assert s._last_report is not None
    assert "committed before the sensor started" in s._last_report.message
    frontier = admin_conn.execute(
        "SELECT frontier FROM pgtrickle.pgt_stream_tables WHERE pgt_name = 'top_orders'"
    ).fetchone()
    hook.refresh_stream_table(TOPK)
    assert s.poke({}).is_done is True, s._last_report
    # pg_trickle did not move the frontier: the old rule would have waited for good.
    assert (
        admin_conn.execute(
            "SELECT frontier FROM pgtrickle.pgt_stream_tables WHERE pgt_name = 'top_orders'"
        ).fetchone()
        == frontier
    )


@pytest.fixture
def wal_captured(pgtrickle_db: TestDatabase, order_totals: str) -> Iterator[str]:
    """`public.orders` recorded as captured from the WAL, as pg_trickle's decoder records it
    (src/wal_decoder.rs: StDependency::update_cdc_mode_for_source), written by hand. A share
    lock on the row keeps a real scheduler from writing it back while the test runs."""
    # pg_trickle's own state, written as its owner (no role is granted the catalog on 0.108.3).
    with pgtrickle_db.admin_connect(autocommit=True) as conn:
        conn.execute(
            "UPDATE pgtrickle.pgt_dependencies SET cdc_mode = 'WAL'"
            " WHERE source_relid = 'public.orders'::regclass"
        )
    with pgtrickle_db.admin_connect(autocommit=False) as holder:
        holder.execute(
            "SELECT 1 FROM pgtrickle.pgt_dependencies"
            " WHERE source_relid = 'public.orders'::regclass FOR SHARE"
        )
        yield order_totals
        holder.rollback()


@pytest.mark.usefixtures("pgtrickle_airflow_conn", "wal_captured")
def test_wal_captured_source_is_refused_not_guessed() -> None:
    s = sensor(deferrable=False)
    s._start_sources_wait()
    with pytest.raises(PgTrickleSourcesUncheckableError) as caught:
        s.poke({})
    assert caught.value.stream_table == ST
    message = str(caught.value)
    assert "captures that source from the WAL (cdc_mode WAL)" in message
    assert message.endswith(
        "Set `cdc_mode => 'trigger'` on the stream tables reading it, or wait without "
        "wait_for_sources."
    )


@shared_streams_only
@pytest.mark.usefixtures("pgtrickle_airflow_conn", "wal_captured")
def test_deferred_wait_ends_in_an_error_for_a_table_it_cannot_judge(
    pgtrickle_conn: psycopg.Connection[Any],
) -> None:
    lsn, at = pgtrickle_conn.execute(_caught_up.START_POSITION).fetchone()
    trigger = PgTrickleHealthTrigger(
        postgres_conn_id="postgres_default",
        stream_tables=[ST],
        schema=None,
        max_staleness=None,
        min_data_timestamp=None,
        fail_on_error=True,
        poll_interval=600,
        deadline=(datetime.now(timezone.utc) + timedelta(minutes=5)).isoformat(),
        sources_since=_caught_up.start_token(lsn, at),
    )

    async def scenario() -> list[dict[str, Any]]:
        triggerer = Triggerer()
        try:
            triggerer.start([trigger])
            return await triggerer.finished(timeout=30)
        finally:
            await triggerer.stop()

    [event] = asyncio.run(scenario())
    assert event["status"] == "error"
    assert "cdc_mode WAL" in event["message"]


@pytest.fixture
def reader(
    pgtrickle_db: TestDatabase,
    pgtrickle_conn: psycopg.Connection[Any],
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[str]:
    """A login role, not a superuser, that may read pg_trickle's catalog (schema `pgtrickle`)
    and nothing else; `AIRFLOW_CONN_READER` connects as it."""
    role = f"pgt_reader_{uuid.uuid4().hex[:8]}"
    password = uuid.uuid4().hex
    ident = sql.Identifier(role)
    try:
        pgtrickle_conn.execute(
            sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(ident, sql.Literal(password))
        )
    except psycopg.errors.InsufficientPrivilege:
        pytest.skip("the test role may not CREATE ROLE")
    try:
        pgtrickle_conn.execute(sql.SQL("GRANT USAGE ON SCHEMA pgtrickle TO {}").format(ident))
        pgtrickle_conn.execute(
            sql.SQL("GRANT SELECT ON ALL TABLES IN SCHEMA pgtrickle TO {}").format(ident)
        )
        as_reader = dataclasses.replace(pgtrickle_db, user=role, password=password)
        monkeypatch.setenv("AIRFLOW_CONN_READER", as_reader.airflow_uri)
        yield role
    finally:
        pgtrickle_conn.execute(sql.SQL("DROP OWNED BY {}").format(ident))
        pgtrickle_conn.execute(sql.SQL("DROP ROLE {}").format(ident))


@pytest.mark.usefixtures("order_totals")
def test_a_role_without_grants_on_the_change_buffers_is_told_which_grant_to_run(
    pgtrickle_conn: psycopg.Connection[Any], hook: PgTrickleHook, reader: str
) -> None:
    # pg_trickle's install script revokes everything on schema pgtrickle_changes from PUBLIC;
    # its buffers belong to whoever created the stream table.
    if not _caught_up.counts_buffers(hook.capabilities()):
        pytest.skip("the read functions' path (0.96.0+) reads no change buffer")
    pgtrickle_conn.execute("INSERT INTO public.orders VALUES (4, 3, 1)")
    s = sensor(deferrable=False, postgres_conn_id="reader")
    s._start_sources_wait()
    with pytest.raises(PgTrickleSourcesUncheckableError) as caught:
        s.poke({})
    assert caught.value.stream_table == ST
    assert f"GRANT USAGE ON SCHEMA pgtrickle_changes TO {reader}" in str(caught.value)

    pgtrickle_conn.execute(f"GRANT USAGE ON SCHEMA pgtrickle_changes TO {reader}")
    with pytest.raises(PgTrickleSourcesUncheckableError) as caught:
        s.poke({})
    assert "may not SELECT from it" in str(caught.value)
    assert f"GRANT SELECT ON ALL TABLES IN SCHEMA pgtrickle_changes TO {reader}" in str(
        caught.value
    )

    pgtrickle_conn.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA pgtrickle_changes TO {reader}")
    assert s.poke({}).is_done is False
    assert s._last_report is not None
    assert "1 source change(s) committed before the sensor started" in s._last_report.message
    hook.refresh_stream_table(ST)
    assert s.poke({}).is_done is True
