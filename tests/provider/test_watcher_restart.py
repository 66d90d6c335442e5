"""A stream-table watcher across triggerer restarts and failover: no asset event repeated or lost.

The watcher records what it announced in Airflow 3.3's asset state store (`_announced`). The
triggerer's supervisor keeps that store in the metadata database; here `StateStoreSupervisor`
plays the supervisor's part of the Task SDK exchange (the real `AssetStateStoreAccessors` send
it the real `GetAssetStateStoreByName` / `SetAssetStateStoreByName` messages), and the record
survives the "triggerers" as the metadata database would. Triggers run through Airflow's own
`TriggerRunner.run_trigger`; the catalog is read from a separate connection.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from typing import Any

import psycopg
import pytest
from airflow.sdk import Asset
from airflow.sdk.exceptions import ErrorType
from airflow.sdk.execution_time import task_runner
from airflow.sdk.execution_time.comms import (
    ErrorResponse,
    GetVariable,
    PutVariable,
    VariableResult,
)

from airflow_provider_pgtrickle._compat import has_airflow
from airflow_provider_pgtrickle.assets import stream_table_asset, stream_table_watcher
from airflow_provider_pgtrickle.hooks.pgtrickle import PgTrickleHook
from airflow_provider_pgtrickle.testing.server import TestDatabase
from airflow_provider_pgtrickle.triggers import _announced
from airflow_provider_pgtrickle.triggers.pgtrickle import PgTrickleStreamTableRefreshedTrigger

from .conftest import ORDERS_QUERY
from .test_trigger_shared import Triggerer, hub_of, until

if has_airflow(_announced.ASSET_STATE_STORE):
    from airflow.sdk.execution_time.comms import (
        AssetStateStoreResult,
        GetAssetStateStoreByName,
        SetAssetStateStoreByName,
    )
    from airflow.sdk.execution_time.context import AssetStateStoreAccessors

#: Airflow 3.1/3.2 have no asset state store (the Variable fallback is tested on every version).
state_store_only = pytest.mark.skipif(
    not has_airflow(_announced.ASSET_STATE_STORE),
    reason="the asset state store arrives in Airflow 3.3",
)

ST = "public.order_totals"
Tick = Callable[[], list[dict[str, Any]]]


class StateStoreSupervisor:
    """The supervisor's side of the Task SDK messages the watcher sends, over a dict that
    outlives every triggerer (the metadata database's part). Any other message fails."""

    def __init__(self) -> None:
        self.assets: dict[tuple[str, str], Any] = {}
        self.variables: dict[str, str] = {}
        self.writes = 0

    def send(self, msg: Any) -> Any:
        if has_airflow(_announced.ASSET_STATE_STORE) and isinstance(msg, GetAssetStateStoreByName):
            if (msg.name, msg.key) not in self.assets:
                return ErrorResponse(error=ErrorType.ASSET_STORE_NOT_FOUND)
            return AssetStateStoreResult(value=self.assets[msg.name, msg.key])
        if has_airflow(_announced.ASSET_STATE_STORE) and isinstance(msg, SetAssetStateStoreByName):
            self.writes += 1
            self.assets[msg.name, msg.key] = msg.value
            return None
        if isinstance(msg, GetVariable):
            if msg.key not in self.variables:
                return ErrorResponse(error=ErrorType.VARIABLE_NOT_FOUND)
            return VariableResult(key=msg.key, value=self.variables[msg.key])
        if isinstance(msg, PutVariable):
            self.writes += 1
            self.variables[msg.key] = str(msg.value)
            return None
        raise AssertionError(f"unexpected message to the supervisor: {msg!r}")

    async def asend(self, msg: Any) -> Any:
        return self.send(msg)


@pytest.fixture
def supervisor(monkeypatch: pytest.MonkeyPatch) -> StateStoreSupervisor:
    fake = StateStoreSupervisor()
    monkeypatch.setattr(task_runner, "SUPERVISOR_COMMS", fake, raising=False)
    return fake


@pytest.fixture
def airflow_3_2(monkeypatch: pytest.MonkeyPatch) -> None:
    """Airflow 3.1/3.2 inject no asset state store; the watcher falls back to a Variable."""
    monkeypatch.setattr(_announced, "has_airflow", lambda needed: needed < (3, 3))


def data_timestamp(db: TestDatabase) -> datetime:
    """The table's committed `data_timestamp`, from a separate connection (the superuser's:
    0.108.3 grants no role SELECT on the catalog)."""
    with db.admin_connect() as conn:
        row = conn.execute(
            "SELECT data_timestamp FROM pgtrickle.pgt_stream_tables"
            " WHERE pgt_schema || '.' || pgt_name = %s",
            [ST],
        ).fetchone()
    assert row is not None
    assert row[0] is not None
    return row[0]  # type: ignore[no-any-return]


def watcher(conn_id: str) -> PgTrickleStreamTableRefreshedTrigger:
    """A fresh trigger as a triggerer builds it for the asset: the state store of the asset it
    watches injected (what Airflow 3.3's triggerer does for every asset watcher)."""
    asset = stream_table_asset(conn_id, ST)
    trigger = stream_table_watcher(conn_id, ST, poll_interval=0.2).trigger
    assert isinstance(trigger, PgTrickleStreamTableRefreshedTrigger)
    trigger.asset_state_store = AssetStateStoreAccessors(
        inlets=[Asset(name=asset.name, uri=asset.uri)]
    )
    return trigger


async def run_checks(trigger: PgTrickleStreamTableRefreshedTrigger, checks: int) -> Triggerer:
    """Start a triggerer with ``trigger``, let it judge ``checks`` snapshots, stop it."""
    judged = 0
    judge = trigger._judge

    def counted(snapshot: Any) -> Any:
        nonlocal judged
        judged += 1
        return judge(snapshot)

    trigger._judge = counted  # type: ignore[method-assign]
    triggerer = Triggerer()
    triggerer.start([trigger])
    try:
        # The trigger handles one snapshot at a time: once it judges the next one, the
        # previous one's event was handed over and its record written.
        await until(lambda: judged > checks)
    finally:
        events = triggerer.events
        await triggerer.stop()
    triggerer.stopped_events = events  # type: ignore[attr-defined]
    return triggerer


def events_of(triggerer: Triggerer) -> list[dict[str, Any]]:
    return list(triggerer.stopped_events[0])  # type: ignore[attr-defined]


def change(conn: psycopg.Connection[Any], order_id: int, tick: Tick) -> None:
    conn.execute("INSERT INTO public.orders VALUES (%s, 9, 1)", [order_id])
    assert [r["action"] for r in tick() if f"{r['pgt_schema']}.{r['pgt_name']}" == ST] == [
        "DIFFERENTIAL"
    ]


@pytest.fixture
def table(hook: PgTrickleHook, orders: str) -> str:
    # CALCULATED so each tick refreshes it when its source changed.
    hook.create_stream_table(ST, ORDERS_QUERY, schedule="calculated")
    return ST


@state_store_only
@pytest.mark.usefixtures("table")
def test_a_refresh_while_no_triggerer_runs_the_watcher_fires_exactly_one_event_after_takeover(
    pgtrickle_airflow_conn: str,
    pgtrickle_conn: psycopg.Connection[Any],
    pgtrickle_db: TestDatabase,
    pgtrickle_tick: Tick,
    supervisor: StateStoreSupervisor,
) -> None:
    # Triggerer 1 starts the watcher: its first check records the current state, no event.
    first = asyncio.run(run_checks(watcher(pgtrickle_airflow_conn), checks=2))
    assert events_of(first) == []
    [(key, record)] = supervisor.assets.items()
    assert key[1] == _announced.KEY
    assert record == {
        "stream_table": ST,
        "data_timestamp": data_timestamp(pgtrickle_db).isoformat(),
    }

    # Triggerer 1 is gone; the scheduler refreshes the table before another takes over.
    before = data_timestamp(pgtrickle_db)
    change(pgtrickle_conn, 10, pgtrickle_tick)
    after = data_timestamp(pgtrickle_db)
    assert after > before

    # Triggerer 2 takes over: one event for that refresh, at its first check, and no other.
    second = asyncio.run(run_checks(watcher(pgtrickle_airflow_conn), checks=3))
    [event] = events_of(second)
    assert event["stream_table"] == ST
    assert event["data_timestamp"] == after.isoformat()
    assert event["notified"] is False  # nobody listened when the refresh was announced
    assert supervisor.assets[key]["data_timestamp"] == after.isoformat()


@state_store_only
@pytest.mark.usefixtures("table")
def test_a_restart_without_a_refresh_fires_nothing_and_a_later_refresh_fires_once(
    pgtrickle_airflow_conn: str,
    pgtrickle_conn: psycopg.Connection[Any],
    pgtrickle_db: TestDatabase,
    pgtrickle_tick: Tick,
    supervisor: StateStoreSupervisor,
) -> None:
    first = asyncio.run(run_checks(watcher(pgtrickle_airflow_conn), checks=2))
    assert events_of(first) == []

    # Restarted with no refresh in between: nothing to announce, nothing rewritten.
    writes = supervisor.writes
    second = asyncio.run(run_checks(watcher(pgtrickle_airflow_conn), checks=3))
    assert events_of(second) == []
    assert supervisor.writes == writes

    # A refresh while the watcher runs is announced once and recorded; a restart after it
    # does not announce it again.
    async def refreshed_while_running() -> list[dict[str, Any]]:
        trigger = watcher(pgtrickle_airflow_conn)
        triggerer = Triggerer()
        triggerer.start([trigger])
        try:
            await until(lambda: hub_of(trigger).queries >= 1)
            await asyncio.to_thread(change, pgtrickle_conn, 11, pgtrickle_tick)
            await until(lambda: len(triggerer.events[0]) == 1)
            seen = hub_of(trigger).queries
            await until(lambda: hub_of(trigger).queries >= seen + 2)
            return list(triggerer.events[0])
        finally:
            await triggerer.stop()

    [event] = asyncio.run(refreshed_while_running())
    assert event["data_timestamp"] == data_timestamp(pgtrickle_db).isoformat()
    [record] = supervisor.assets.values()
    assert record["data_timestamp"] == event["data_timestamp"]

    third = asyncio.run(run_checks(watcher(pgtrickle_airflow_conn), checks=3))
    assert events_of(third) == []


@pytest.mark.usefixtures("table", "airflow_3_2")
def test_before_airflow_3_3_the_record_is_an_airflow_variable(
    pgtrickle_airflow_conn: str,
    pgtrickle_conn: psycopg.Connection[Any],
    pgtrickle_db: TestDatabase,
    pgtrickle_tick: Tick,
    supervisor: StateStoreSupervisor,
) -> None:

    def bare() -> PgTrickleStreamTableRefreshedTrigger:
        trigger = stream_table_watcher(pgtrickle_airflow_conn, ST, poll_interval=0.2).trigger
        assert isinstance(trigger, PgTrickleStreamTableRefreshedTrigger)
        return trigger

    assert events_of(asyncio.run(run_checks(bare(), checks=2))) == []
    key = _announced.variable_key(pgtrickle_airflow_conn, ST)
    assert list(supervisor.variables) == [key]

    change(pgtrickle_conn, 12, pgtrickle_tick)
    [event] = events_of(asyncio.run(run_checks(bare(), checks=3)))
    assert event["data_timestamp"] == data_timestamp(pgtrickle_db).isoformat()
    assert events_of(asyncio.run(run_checks(bare(), checks=3))) == []


@state_store_only
def test_an_unreachable_store_degrades_to_memory_with_a_warning(
    pgtrickle_airflow_conn: str, capsys: pytest.CaptureFixture[str], table: str
) -> None:
    # No supervisor at all (SUPERVISOR_COMMS unset): the watcher still watches.
    trigger = watcher(pgtrickle_airflow_conn)
    triggerer = asyncio.run(run_checks(trigger, checks=2))
    assert events_of(triggerer) == []
    # Airflow's structured logging writes to stdout.
    assert f"cannot read the asset state store for `{table}`" in capsys.readouterr().out


def test_the_record_resumed_is_the_oldest_of_this_table() -> None:
    # One watcher on several assets: the oldest record, so that no asset misses a change;
    # records of another table, or not records at all, are ignored.
    old = {"stream_table": ST, "data_timestamp": "2026-12-01T00:00:00+00:00"}
    new = {"stream_table": ST, "data_timestamp": "2026-12-02T00:00:00+00:00"}
    other = {"stream_table": "public.other", "data_timestamp": "2026-11-01T00:00:00+00:00"}
    record = _announced.restored([new, None, old, other, "junk"], ST)
    assert record is not None
    assert record.data_timestamp.isoformat() == old["data_timestamp"]
    assert _announced.restored([None, other], ST) is None
