"""One meaning of "healthy": the sensor, its trigger, the dbt test and `pgtrickle_status` agree.

One table of catalog states (`CASES`), set through the test double's catalog from a test
connection, is judged by all four callers with the same limit (max_staleness 30 min); each
must give the same verdict in the same words (`airflow_provider_pgtrickle.vocabulary.health`,
docs/health.md). Ages ("3600s ago") are read at different moments, so they are compared with
the digits blanked out. The rows the callers disagreed on before are `leftover_error` (a last
error message next to zero consecutive errors), `immediate_quiet` (an IMMEDIATE table
whose last refresh is old because nothing was written) and `fuse_blown_resumed` (an ACTIVE
table whose fuse is still blown: only the UI page failed it). The UI page colours the same
verdicts (its own staleness is the table's schedule, not the 30 min limit).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_pgtrickle.exceptions import (
    PgTrickleUnhealthyError,
    StreamTableNotFoundError,
)
from airflow_provider_pgtrickle.hooks.pgtrickle import PgTrickleHook
from airflow_provider_pgtrickle.sensors.pgtrickle import PgTrickleHealthSensor
from airflow_provider_pgtrickle.testing.server import TestDatabase, TestServer
from airflow_provider_pgtrickle.triggers.pgtrickle import PgTrickleHealthTrigger

from ._project import DbtProject

pytestmark = pytest.mark.slow

SCHEMA = "vocab"
CONN_ID = "pgt_vocabulary"
# Half an hour: the healthy rows must stay within it while all four callers run (minutes
# against a real server); the stale row is three hours behind.
MAX_STALENESS = 1800
QUERY = f"SELECT customer_id, sum(amount) AS total FROM {SCHEMA}.orders GROUP BY customer_id"


@dataclass(frozen=True)
class Case:
    refresh_mode: str | None  # None: not created (a name missing from the catalog)
    catalog: str  # SET clause applied to the table's catalog row
    health: str
    reason: str


CASES: dict[str, Case] = {
    # pg_trickle clears last_error_message on every way back to ACTIVE; a message next to an
    # ACTIVE status and zero errors is a stale leftover: healthy.
    "leftover_error": Case(
        "DIFFERENTIAL",
        "last_error_message = 'old failure', last_error_at = now() - interval '2 hours'",
        "healthy",
        "is healthy",
    ),
    # IMMEDIATE tables are maintained in the writing transaction: never stale.
    "immediate_quiet": Case(
        "IMMEDIATE", "last_refresh_at = now() - interval '1 hour'", "healthy", "is healthy"
    ),
    "stale": Case(
        "DIFFERENTIAL",
        "last_refresh_at = now() - interval '3 hours'",
        "waiting",
        "is stale: last refreshed 10800s ago, max_staleness is 1800s",
    ),
    "erroring": Case(
        "DIFFERENTIAL",
        "consecutive_errors = 2, last_error_message = 'boom'",
        "waiting",
        "has 2 consecutive refresh error(s); last: boom",
    ),
    "suspended": Case(
        "DIFFERENTIAL",
        "status = 'SUSPENDED', last_error_message = 'broken source'",
        "failed",
        "is SUSPENDED: broken source",
    ),
    # What the scheduler leaves when a fuse blows (pg_trickle src/catalog.rs, blow_fuse) ...
    "fuse_blown": Case(
        "DIFFERENTIAL",
        "status = 'SUSPENDED', fuse_mode = 'on', fuse_state = 'blown', blown_at = now(),"
        " blow_reason = 'change buffer count (5) exceeded ceiling (2)'",
        "failed",
        "has a blown fuse (change buffer count (5) exceeded ceiling (2)): refreshes are held"
        " until pgtrickle.reset_fuse",
    ),
    # ... and what resume_stream_table leaves of it: ACTIVE, still blown, still held.
    "fuse_blown_resumed": Case(
        "DIFFERENTIAL",
        "fuse_mode = 'on', fuse_state = 'blown', blown_at = now(), blow_reason = 'too many'",
        "failed",
        "has a blown fuse (too many): refreshes are held until pgtrickle.reset_fuse",
    ),
    "missing": Case(None, "", "missing", "is not in the pg_trickle catalog"),
}


def blank_digits(text: str) -> str:
    # The error code the 0.108.3 catalog types each failure with (" [UNKNOWN_RETRYABLE]") is
    # left out too: the callers here share one expression, and the codes have their own tests
    # (tests/provider/test_suspend_reasons.py).
    return re.sub(r" \[[A-Z_]+\]", "", re.sub(r"\d+s ago", "Ns ago", text))


@pytest.fixture(scope="module")
def vocab_db(pgtrickle_server: TestServer) -> Iterator[TestDatabase]:
    db = pgtrickle_server.create_database()
    key = f"AIRFLOW_CONN_{CONN_ID.upper()}"
    os.environ[key] = db.airflow_uri
    try:
        with db.connect() as conn:
            conn.execute(f"CREATE SCHEMA {SCHEMA}")
            conn.execute(
                f"CREATE TABLE {SCHEMA}.orders (id int PRIMARY KEY, customer_id int, amount int)"
            )
            conn.execute(f"INSERT INTO {SCHEMA}.orders VALUES (1, 1, 10), (2, 2, 5)")
        hook = PgTrickleHook(postgres_conn_id=CONN_ID)
        for name, case in CASES.items():
            if case.refresh_mode is not None:
                # A 2 h schedule keeps a real scheduler from refreshing the aged tables; `stale` is
                # older than that too, so the UI page (which judges by the schedule) warns.
                hook.create_stream_table(
                    f"{SCHEMA}.{name}", QUERY, schedule="2h", refresh_mode=case.refresh_mode
                )
        with db.admin_connect() as conn:
            for name, case in CASES.items():
                if case.refresh_mode is not None:
                    conn.execute(
                        f"UPDATE pgtrickle.pgt_stream_tables SET {case.catalog}"
                        f" WHERE pgt_schema = '{SCHEMA}' AND pgt_name = '{name}'"
                    )
                    if "last_refresh_at" in case.catalog:
                        # The rules also read the newest completed refresh in the history.
                        conn.execute(
                            "UPDATE pgtrickle.pgt_refresh_history AS h"
                            " SET start_time = h.start_time - interval '3 hours'"
                            " FROM pgtrickle.pgt_stream_tables AS s WHERE s.pgt_id = h.pgt_id"
                            f" AND s.pgt_schema = '{SCHEMA}' AND s.pgt_name = '{name}'"
                        )
        yield db
    finally:
        os.environ.pop(key, None)
        pgtrickle_server.drop_database(db.dbname)


def sensor_verdicts() -> dict[str, tuple[str, str]]:
    verdicts: dict[str, tuple[str, str]] = {}
    for name in CASES:
        sensor = PgTrickleHealthSensor(
            task_id=f"vocab_{name}",
            stream_tables=[f"{SCHEMA}.{name}"],
            postgres_conn_id=CONN_ID,
            max_staleness=MAX_STALENESS,
            poke_interval=0,
            timeout=0,
            deferrable=False,
        )
        try:
            sensor.poke({})
        except StreamTableNotFoundError:
            verdicts[name] = ("missing", CASES["missing"].reason)
            continue
        except PgTrickleUnhealthyError as error:
            verdicts[name] = (type(error).__name__, str(error))
        report = sensor._last_report
        assert report is not None
        for table in report.tables:
            verdicts[name] = (table.state.value, table.reason)
    return verdicts


def trigger_verdicts() -> dict[str, tuple[str, str]]:
    """One trigger for every name; its deadline has passed, so its first event carries the
    verdicts of its first poll."""
    trigger = PgTrickleHealthTrigger(
        postgres_conn_id=CONN_ID,
        stream_tables=[f"{SCHEMA}.{name}" for name in CASES],
        schema=None,
        max_staleness=MAX_STALENESS,
        min_data_timestamp=None,
        fail_on_error=True,
        poll_interval=600,
        deadline=(datetime.now(timezone.utc) - timedelta(seconds=1)).isoformat(),
    )

    async def first_event() -> dict[str, Any]:
        async for event in trigger.run():
            return dict(event.payload)
        raise AssertionError("the trigger ended without an event")

    report = asyncio.run(first_event())["report"]
    verdicts = {
        t["stream_table"].split(".")[1]: (t["state"], t["reason"]) for t in report["tables"]
    }
    for missing in report["missing"]:
        verdicts[missing.split(".")[1]] = ("missing", CASES["missing"].reason)
    return verdicts


def dbt_verdicts(project: DbtProject, db: TestDatabase) -> dict[str, tuple[str, str]]:
    probe = (
        "{{ dbt_pg_trickle.test_stream_table_healthy(ref('order_totals'),"
        f" stream_table_schema='{SCHEMA}', stream_table_name='%s',"
        f" max_staleness='{MAX_STALENESS} seconds') }}}}\n"
    )
    for name in CASES:
        project.write(f"tests/probes/health_{name}.sql", probe % name)
    try:
        project.dbt("test", "--select", "path:tests/probes", "--store-failures", expect_ok=False)
    finally:
        for name in CASES:
            project.remove(f"tests/probes/health_{name}.sql")
    verdicts: dict[str, tuple[str, str]] = {}
    with db.connect() as conn:
        for name in CASES:
            audit = f"integration_dbt_test__audit.health_{name}"
            rows = conn.execute(f"SELECT stream_table, health, reason FROM {audit}").fetchall()
            if not rows:
                verdicts[name] = ("healthy", "is healthy")  # the test returns unhealthy rows only
                continue
            [(stream_table, health, reason)] = rows
            assert stream_table == f"{SCHEMA}.{name}"
            verdicts[name] = (health, reason)
    return verdicts


def status_verdicts(project: DbtProject) -> dict[str, tuple[str, str]]:
    result = project.dbt(
        "run-operation", "pgtrickle_status", "--args", f"{{max_staleness: {MAX_STALENESS}}}"
    )
    line = re.compile(
        rf"pg_trickle: {SCHEMA}\.(\w+): (\w+): `{SCHEMA}\.\w+` (.*?); (ACTIVE|SUSPENDED|ERROR)"
    )
    return {m[1]: (m[2], m[3]) for m in line.finditer(result.output)}


CALLERS = ("sensor", "trigger", "dbt test", "pgtrickle_status")


@pytest.fixture(scope="module")
def verdicts(
    vocab_db: TestDatabase, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, dict[str, tuple[str, str]] | str]:
    """caller -> stream table -> (health, reason); a caller that broke: the error's text."""
    project = DbtProject.create(tmp_path_factory.mktemp("dbt"), vocab_db.dbt_env())
    project.dbt("deps")
    found: dict[str, dict[str, tuple[str, str]] | str] = {}
    readers = {
        "sensor": sensor_verdicts,
        "trigger": trigger_verdicts,
        "dbt test": lambda: dbt_verdicts(project, vocab_db),
        # The catalog has no row for a missing name, so the status lists the others only.
        "pgtrickle_status": lambda: {
            **status_verdicts(project),
            "missing": (CASES["missing"].health, CASES["missing"].reason),
        },
    }
    for caller, read in readers.items():
        try:
            found[caller] = read()
        except Exception as error:  # one broken caller must not hide the others' verdicts
            found[caller] = f"{type(error).__name__}: {error}"
    return found


# A table whose last refresh is older than its schedule is due: a real scheduler refreshes the
# aged `stale` table within seconds (pg_trickle src/scheduler/mod.rs, check_schedule compares
# now() - last_refresh_at with the schedule), so only the double, whose scheduler runs when a
# test asks, keeps it stale while the callers look.
SCHEDULER_REFRESHES = {"stale"}


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(name, marks=pytest.mark.requires_double)
        if name in SCHEDULER_REFRESHES
        else name
        for name in CASES
    ],
)
@pytest.mark.parametrize("caller", CALLERS)
def test_one_verdict_in_one_wording(
    verdicts: dict[str, dict[str, tuple[str, str]] | str], caller: str, name: str
) -> None:
    by_caller = verdicts[caller]
    assert not isinstance(by_caller, str), by_caller
    case = CASES[name]
    assert name in by_caller, by_caller
    health, reason = by_caller[name]
    assert (health, blank_digits(reason)) == (case.health, blank_digits(case.reason))


def ui_colours() -> dict[str, tuple[str, str]]:
    from airflow_provider_pgtrickle.ui.data import overview

    found = overview(PgTrickleHook(postgres_conn_id=CONN_ID), CONN_ID)
    return {
        t.name.split(".")[1]: (t.health.value, t.health_reason)
        for t in found.stream_tables
        if t.schema == SCHEMA
    }


def test_the_ui_page_colours_the_same_verdicts(vocab_db: TestDatabase) -> None:
    colour = {"healthy": "healthy", "waiting": "warning", "failed": "failed"}
    colours = ui_colours()
    expected = {
        name: colour[case.health] for name, case in CASES.items() if case.refresh_mode is not None
    }
    if not vocab_db.is_double:
        # a real scheduler has refreshed them (SCHEDULER_REFRESHES): compared on the double only
        for name in SCHEDULER_REFRESHES:
            expected.pop(name)
            colours.pop(name)
    assert {name: health for name, (health, _) in colours.items()} == expected
    failed = {name: reason for name, (health, reason) in colours.items() if health == "failed"}
    assert failed == {name: CASES[name].reason for name in failed}


def test_the_refresh_operations_read_no_error_into_a_leftover_message(
    vocab_db: TestDatabase, tmp_path: Path
) -> None:
    """`pgtrickle_stream_table_status` (what pgtrickle_refresh and the refresh-all operation
    classify a table by) calls a last error message next to zero errors healthy, as the
    health rules do."""
    project = DbtProject.create(tmp_path / "dbt", vocab_db.dbt_env())
    project.dbt("deps")
    project.write(
        "macros/probe_classify.sql",
        "{% macro probe_classify() %}{% set out = {} %}"
        "{% for key, info in dbt_pg_trickle.pgtrickle_get_stream_tables_info().items() %}"
        "{% do out.update({key: dbt_pg_trickle.pgtrickle_stream_table_status(info)}) %}"
        "{% endfor %}{% do log('CLASSIFIED ' ~ (out | tojson), info=true) %}{% endmacro %}\n",
    )
    result = project.dbt("run-operation", "probe_classify")
    (line,) = [line for line in result.output.splitlines() if "CLASSIFIED " in line]
    found = json.loads(line.split("CLASSIFIED ", 1)[1])
    assert {k.split(".")[1]: v for k, v in found.items() if k.startswith(f"{SCHEMA}.")} == {
        "leftover_error": "healthy",
        "immediate_quiet": "healthy",
        "stale": "healthy",
        "erroring": "erroring",
        "suspended": "suspended",
        "fuse_blown": "suspended",
        "fuse_blown_resumed": "healthy",
    }
