"""The provider on every Airflow it supports (3.1 and later; `_compat`).

CI runs this file twice: on the newest Airflow (main job) and on the oldest the declared range
allows (the lowest-direct job, Airflow 3.1). Version gates are tested with made-up version
numbers, since one run sees one Airflow.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import warnings
from collections.abc import Callable
from typing import Any

import psycopg
import pytest

from airflow_provider_pgtrickle import _compat
from airflow_provider_pgtrickle.exceptions import (
    PgTrickleAirflowVersionError,
    PgTrickleConnectionError,
    PgTrickleSensorTimeout,
    PgTrickleUnhealthyError,
    require_airflow,
)
from airflow_provider_pgtrickle.hooks.pgtrickle import PgTrickleHook
from airflow_provider_pgtrickle.testing.server import TestDatabase
from airflow_provider_pgtrickle.triggers.pgtrickle import PgTrickleStreamTableRefreshedTrigger

from .conftest import ORDERS_QUERY
from .test_trigger_shared import ST, Triggerer, backends, health, until

COUNT = "public.order_count"


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("3.1.8", (3, 1, 8)),
        ("3.2.0rc1", (3, 2, 0)),
        ("3.3.2+astro.1", (3, 3, 2)),
        ("3.1", (3, 1, 0)),
        ("3.10.0.dev0", (3, 10, 0)),
    ],
)
def test_airflow_versions_are_read_without_their_suffixes(
    text: str, parsed: tuple[int, int, int]
) -> None:
    assert _compat.airflow_version(text) == parsed


def test_a_feature_needing_a_newer_airflow_is_refused_naming_both_versions() -> None:
    with pytest.raises(PgTrickleAirflowVersionError) as caught:
        require_airflow("shared trigger streams", (3, 3), running=(3, 2, 2))
    assert str(caught.value) == (
        "`shared trigger streams` needs Airflow 3.3 or later, but this is Airflow 3.2.2; "
        "upgrade Airflow to 3.3 or later (`pip install 'apache-airflow>=3.3'`)."
    )
    # The whole minor line counts, patch releases included; 3.10 is newer than 3.3.
    for running in [(3, 3, 0), (3, 3, 5), (3, 10, 0), (4, 0, 0)]:
        require_airflow("shared trigger streams", (3, 3), running=running)
        assert _compat.has_airflow((3, 3), running=running)
    assert not _compat.has_airflow((3, 3), running=(3, 2, 99))


def test_the_provider_refuses_an_airflow_below_its_floor_on_import() -> None:
    # Installed past the resolver (`--no-deps`) into Airflow 3.0: one clear error at import,
    # not a missing name somewhere inside Airflow.
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import airflow; airflow.__version__ = '3.0.6'\n"
            "import airflow_provider_pgtrickle.hooks.pgtrickle\n",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1] == (
        "airflow_provider_pgtrickle.exceptions.PgTrickleAirflowVersionError: "
        "`airflow-provider-pgtrickle` needs Airflow 3.1 or later, but this is Airflow 3.0.6; "
        "upgrade Airflow to 3.1 or later (`pip install 'apache-airflow>=3.1'`)."
    )


def test_the_running_airflow_is_supported() -> None:
    assert _compat.has_airflow(_compat.MIN_AIRFLOW)
    require_airflow("airflow-provider-pgtrickle", _compat.MIN_AIRFLOW)


def test_failures_that_must_not_be_retried_are_the_running_airflows_fail_exceptions() -> None:
    # The task runner ends a task without retries on `AirflowFailException` and
    # `AirflowSensorTimeout`; on 3.1 only `airflow.exceptions` has them, on 3.2+ that name is
    # a deprecated alias of the Task SDK's class. Either way ours must be subclasses.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from airflow.exceptions import AirflowFailException, AirflowSensorTimeout

    assert issubclass(PgTrickleUnhealthyError, AirflowFailException)
    assert issubclass(PgTrickleConnectionError, AirflowFailException)
    assert issubclass(PgTrickleAirflowVersionError, AirflowFailException)
    assert issubclass(PgTrickleSensorTimeout, AirflowSensorTimeout)


@pytest.mark.usefixtures("pgtrickle_airflow_conn", "orders")
def test_triggers_wait_and_fire_on_the_running_triggerer_shared_or_not(
    pgtrickle_db: TestDatabase,
    pgtrickle_conn: psycopg.Connection[Any],
    hook: PgTrickleHook,
    pgtrickle_tick: Callable[[], list[dict[str, Any]]],
) -> None:
    # Airflow's own `TriggerRunner.run_trigger`: on 3.3+ it joins the triggers in one shared
    # stream; older triggerers call each trigger's `run()`, one listener connection apiece.
    # CALCULATED: refreshed at the next scheduler tick (a fixed schedule may not be due yet).
    hook.create_stream_table(ST, ORDERS_QUERY, schedule="calculated")
    # Not populated yet: the health waits last until the scheduler's tick.
    hook.create_stream_table(COUNT, "SELECT count(*) AS n FROM public.orders", initialize=False)
    shared = _compat.has_airflow(_compat.SHARED_TRIGGER_STREAMS)
    expected_connections = 1 if shared else 4

    async def scenario() -> tuple[int, list[dict[str, Any]], list[dict[str, Any]]]:
        triggerer = Triggerer()
        watcher = PgTrickleStreamTableRefreshedTrigger(
            postgres_conn_id="postgres_default", stream_table=ST, poll_interval=600
        )
        try:
            # The watcher first, so it sees the table before the change below.
            triggerer.start([watcher])
            await until(lambda: backends(pgtrickle_db, pgtrickle_conn) == 1)
            await asyncio.sleep(1.0)
            triggerer.start([health(poll_interval=600, stream_tables=[COUNT]) for _ in range(3)])
            await until(lambda: backends(pgtrickle_db, pgtrickle_conn) == expected_connections)
            held = await asyncio.to_thread(backends, pgtrickle_db, pgtrickle_conn)
            await asyncio.sleep(1.0)
            await asyncio.to_thread(
                pgtrickle_conn.execute, "INSERT INTO public.orders VALUES (4, 3, 1)"
            )
            await asyncio.to_thread(pgtrickle_tick)
            await until(lambda: len(triggerer.events[0]) == 1)
            await until(lambda: sum(len(triggerer.events[i]) for i in (1, 2, 3)) == 3)
            waits = [e for i in (1, 2, 3) for e in triggerer.events[i]]
            return held, list(triggerer.events[0]), waits
        finally:
            await triggerer.stop()

    held, [fired], waits = asyncio.run(scenario())
    assert held == expected_connections
    assert fired["stream_table"] == ST
    assert fired["notified"] is True
    assert [e["status"] for e in waits] == ["success"] * 3
    # The server ends a backend shortly after its client closed it, not at once.
    asyncio.run(until(lambda: backends(pgtrickle_db, pgtrickle_conn) == 0))


def test_the_dag_runner_finds_its_airflow_names_on_the_running_airflow() -> None:
    # The test kit's child process (`AirflowHome.run_dag`) imports `DagBag` and the listener
    # manager from where this Airflow keeps them (3.1 and 3.2+ differ), without warnings.
    from airflow_provider_pgtrickle.testing.airflow import _CHILD_IMPORTS

    code = (
        "import warnings\n"
        "warnings.simplefilter('error', DeprecationWarning)\n"
        + _CHILD_IMPORTS
        + "print(DagBag.__name__, callable(get_listener_manager), callable(hookimpl))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "DagBag True True"
