"""Why a table is SUSPENDED, its error code and its freshness SLA state, as the health sensor
and trigger judge them on a live database (the rules: tests/provider/test_health_rules.py).

On servers that record the cause (0.108.3): a pause waits (or fails when asked), errors, a
blown fuse and destructive source DDL fail, each named; failure verdicts carry the error code;
the sensor can require the SLA state MEETING. On 0.67.0 every SUSPENDED table fails as before
and requiring MEETING fails with the release that brings it.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

import psycopg
import pytest

from airflow_provider_pgtrickle.exceptions import (
    PgTrickleFeatureUnavailableError,
    PgTrickleUnhealthyError,
)
from airflow_provider_pgtrickle.hooks.pgtrickle import PgTrickleHook
from airflow_provider_pgtrickle.testing.server import TestDatabase

from .conftest import ORDERS_QUERY, fetch
from .test_sensor import sensor
from .test_trigger import events, trigger

ST = "public.order_totals"
V067 = "0.67.0"


def _row(db: TestDatabase, columns: str) -> tuple[Any, ...]:
    """The catalog row of ST, read on a separate connection (committed state only)."""
    (row,) = fetch(
        db,
        f"SELECT {columns} FROM pgtrickle.pgt_stream_tables"
        " WHERE pgt_schema = 'public' AND pgt_name = 'order_totals'",
    )
    return row


def test_a_paused_table_is_waited_for_not_failed(
    pgtrickle_db: TestDatabase,
    pgtrickle_airflow_conn: str,
    hook: PgTrickleHook,
    orders: str,
    pgtrickle_version: str,
) -> None:
    hook.create_stream_table(ST, ORDERS_QUERY)
    hook.alter_stream_table(ST, status="SUSPENDED")  # pause_stream_table where it exists
    assert _row(pgtrickle_db, "status")[0] == "SUSPENDED"
    if pgtrickle_version == V067:
        # No pause_stream_table, no reason recorded: SUSPENDED fails, as it always did.
        with pytest.raises(PgTrickleUnhealthyError, match=r"`public.order_totals` is SUSPENDED"):
            sensor().poke({})
        return
    assert _row(pgtrickle_db, "needs_reinit, refresh_reason") == (True, "SCHEMA_CHANGED")
    waiting = sensor().poke({})
    assert waiting.is_done is False
    with pytest.raises(PgTrickleUnhealthyError, match=r"`public.order_totals` is paused"):
        sensor(fail_on_paused=True).poke({})
    # Deferred: the trigger waits too, and fails when asked.
    (timeout,) = asyncio.run(events(trigger(deadline_in=1)))
    assert timeout["status"] == "timeout"
    assert "is paused" in timeout["message"]
    (error,) = asyncio.run(events(trigger(fail_on_paused=True)))
    assert error["status"] == "error"
    assert "is paused" in error["message"]
    hook.resume_stream_table(ST)
    hook.refresh_stream_table(ST)
    assert sensor().poke({}).is_done is True


@pytest.mark.requires_double
@pytest.mark.usefixtures("pgtrickle_airflow_conn", "orders")
def test_suspension_by_errors_fails_with_the_error_code(
    hook: PgTrickleHook,
    admin_conn: psycopg.Connection[Any],
    pgtrickle_tick: Any,
    pgtrickle_version: str,
) -> None:
    hook.create_stream_table(ST, ORDERS_QUERY, schedule="1s")
    admin_conn.execute("SELECT pgtrickle_test.inject_failure(%s, %s)", [ST, "disk on fire"])
    admin_conn.execute("SELECT pgtrickle_test.age_stream_table(%s, '1 hour')", [ST])
    pgtrickle_tick()
    code = "" if pgtrickle_version == V067 else " [UNKNOWN_RETRYABLE]"
    # One error: still waiting, the code next to the count.
    report = sensor(fail_on_error=True).poke({})
    assert report.is_done is False
    for _ in range(2):
        admin_conn.execute("SELECT pgtrickle_test.age_stream_table(%s, '1 hour')", [ST])
        pgtrickle_tick()
    with pytest.raises(PgTrickleUnhealthyError, match=re.escape(f"is SUSPENDED{code}: disk on")):
        sensor().poke({})
    (error,) = asyncio.run(events(trigger()))
    assert error["status"] == "error"
    assert f"is SUSPENDED{code}: disk on fire" in error["message"]


@pytest.mark.usefixtures("pgtrickle_airflow_conn", "orders")
def test_destructive_source_ddl_fails_naming_it(
    pgtrickle_db: TestDatabase,
    hook: PgTrickleHook,
    admin_conn: psycopg.Connection[Any],
    pgtrickle_version: str,
) -> None:
    if pgtrickle_version == V067:
        pytest.skip("pg_trickle 0.67.0 records no suspend reason for source DDL")
    hook.create_stream_table(ST, ORDERS_QUERY)
    # With block_source_ddl on (the default) pg_trickle refuses the DDL instead.
    admin_conn.execute("SET pg_trickle.block_source_ddl = off")
    admin_conn.execute("ALTER TABLE public.orders RENAME COLUMN amount TO amount_cents")
    assert _row(pgtrickle_db, "status, refresh_reason") == (
        "SUSPENDED",
        "SOURCE_DESTRUCTIVE_SCHEMA",
    )
    with pytest.raises(
        PgTrickleUnhealthyError,
        match=r"is SUSPENDED by destructive DDL on a source \(SOURCE_DESTRUCTIVE_SCHEMA: ",
    ):
        sensor(fail_on_paused=False).poke({})


def _target(admin_conn: psycopg.Connection[Any], state: str | None) -> None:
    """Give ST a 5-minute interval target and the freshness controller's state for it, as
    pg_trickle's controller records them (pgt_freshness_controller_state)."""
    admin_conn.execute(
        "UPDATE pgtrickle.pgt_stream_tables SET target_freshness_mode = 'INTERVAL',"
        " freshness_deadline_ms = 300000 WHERE pgt_schema = 'public' AND pgt_name = 'order_totals'"
    )
    if state is not None:
        admin_conn.execute(
            "INSERT INTO pgtrickle.pgt_freshness_controller_state (pgt_id, target_ms, sla_status)"
            " SELECT pgt_id, 300000, %s FROM pgtrickle.pgt_stream_tables"
            " WHERE pgt_name = 'order_totals'"
            " ON CONFLICT (pgt_id) DO UPDATE SET sla_status = excluded.sla_status",
            [state],
        )


@pytest.mark.usefixtures("orders")
def test_the_sensor_can_require_the_sla_state_meeting(
    pgtrickle_db: TestDatabase,
    pgtrickle_airflow_conn: str,
    hook: PgTrickleHook,
    admin_conn: psycopg.Connection[Any],
    pgtrickle_version: str,
) -> None:
    hook.create_stream_table(ST, ORDERS_QUERY)
    if pgtrickle_version == V067:
        with pytest.raises(PgTrickleFeatureUnavailableError, match=r"freshness.*0\.90\.0"):
            sensor(require_sla_meeting=True).poke({})
        return
    # No interval target: no SLA state, so requiring MEETING cannot be met.
    with pytest.raises(PgTrickleUnhealthyError, match="has no interval target_freshness"):
        sensor(require_sla_meeting=True).poke({})
    _target(admin_conn, None)
    found = sensor(require_sla_meeting=True).poke({})
    assert found.is_done is False  # the controller has no state yet: INSUFFICIENT_DATA
    _target(admin_conn, "BREACHING")
    assert fetch(pgtrickle_db, "SELECT stream_table, status FROM pgtrickle.freshness()") == [
        (ST, "BREACHING")
    ]
    assert sensor(require_sla_meeting=True).poke({}).is_done is False
    assert sensor().poke({}).is_done is True  # not required: BREACHING alone is healthy
    (timeout,) = asyncio.run(events(trigger(deadline_in=1, require_sla_meeting=True)))
    assert "has freshness SLA state BREACHING, not MEETING" in timeout["message"]
    _target(admin_conn, "MEETING")
    done = sensor(require_sla_meeting=True).poke({})
    assert done.is_done is True
    (success,) = asyncio.run(events(trigger(require_sla_meeting=True)))
    assert success["status"] == "success"
    rows = hook.fetch_health([ST])
    assert (rows[0].sla_status, rows[0].error_code) == ("MEETING", None)
    # The UI page shows the state next to the verdict.
    from airflow_provider_pgtrickle.ui.data import overview

    (view,) = overview(hook, pgtrickle_airflow_conn).stream_tables
    assert (view.sla_status, view.health.value) == ("MEETING", "healthy")
