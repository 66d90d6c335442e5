"""A deferrable health sensor through real Airflow components, with a PostgreSQL restart.

`dag.test()` runs triggers inline; this runs the API server, scheduler (LocalExecutor),
triggerer and DAG processor as separate processes, with the metadata database on an embedded
PostgreSQL, so deferral, trigger serialization and resumption happen as in production. The
pg_trickle server (a second embedded PostgreSQL, so the metadata database stays up) is
restarted while the trigger waits.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from airflow_provider_pgtrickle.testing.server import (
    TestDatabase,
    TestServer,
    pg_ctl,
    start_double_server,
)

pytestmark = [pytest.mark.slow, pytest.mark.requires_double]

DAG_FILE = Path(__file__).parents[1] / "provider" / "dags" / "pgtrickle_e2e_deferred.py"
DAG_ID = "pgtrickle_e2e_deferred"
COMPONENTS = ("api-server", "scheduler", "triggerer", "dag-processor")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _wait(what: str, check: Any, timeout: float, logs: Path) -> Any:
    for _ in range(int(timeout / 0.5)):
        value = check()
        if value:
            return value
        threading.Event().wait(0.5)
    tails = "\n".join(
        f"--- {log.name}\n" + log.read_text(errors="replace")[-2500:]
        for log in sorted(logs.glob("*.log"))
    )
    raise AssertionError(f"timed out waiting for {what}\n{tails}")


@pytest.fixture
def servers() -> Iterator[tuple[TestServer, TestServer]]:
    with (
        start_double_server(log_statements=False) as meta,
        start_double_server(log_statements=False) as data,
    ):
        yield meta, data


def test_deferred_sensor_through_scheduler_and_triggerer_survives_a_restart(
    servers: tuple[TestServer, TestServer], tmp_path: Path
) -> None:
    meta, data = servers
    with meta.admin_connect() as conn:
        conn.execute("CREATE DATABASE airflow_meta")
    meta_db = meta.database("airflow_meta")
    db: TestDatabase = data.create_database()
    with db.connect() as conn:
        conn.execute(
            "CREATE TABLE public.orders (id int PRIMARY KEY, customer_id int, amount numeric)"
        )
        conn.execute("INSERT INTO public.orders VALUES (1, 1, 10), (2, 2, 5)")
        conn.execute(
            "SELECT pgtrickle.create_stream_table('public.late_totals', 'SELECT customer_id,"
            " sum(amount) AS total FROM public.orders GROUP BY customer_id',"
            " initialize => false)"
        )
    home = tmp_path / "airflow"
    dags = home / "dags"
    dags.mkdir(parents=True)
    shutil.copy(DAG_FILE, dags)
    api_port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    env.update(db.airflow_env())
    env.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": (
                f"postgresql+psycopg://postgres@127.0.0.1:{meta.port}/airflow_meta"
            ),
            "AIRFLOW__API__PORT": str(api_port),
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": (f"http://127.0.0.1:{api_port}/execution/"),
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
            "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(home / "logs"),
        }
    )
    airflow = str(Path(sys.executable).with_name("airflow"))
    migrate = subprocess.run(
        [airflow, "db", "migrate"], env=env, capture_output=True, text=True, check=False
    )
    assert migrate.returncode == 0, migrate.stderr[-3000:]

    def meta_rows(query: str, params: list[Any]) -> list[tuple[Any, ...]]:
        with meta_db.connect() as conn:
            return conn.execute(query, params).fetchall()

    def ti_state(task_id: str) -> str | None:
        rows = meta_rows(
            "SELECT state FROM task_instance WHERE dag_id = %s AND task_id = %s",
            [DAG_ID, task_id],
        )
        return rows[0][0] if rows else None

    procs: list[subprocess.Popen[bytes]] = []
    try:
        for component in COMPONENTS:
            log = (home / f"{component}.log").open("wb")
            procs.append(
                subprocess.Popen(
                    [airflow, component], env=env, stdout=log, stderr=subprocess.STDOUT
                )
            )
        _wait(
            "the DAG to be parsed",
            lambda: meta_rows("SELECT 1 FROM dag WHERE dag_id = %s", [DAG_ID]),
            240,
            home,
        )
        trigger = subprocess.run(
            [airflow, "dags", "trigger", DAG_ID], env=env, capture_output=True, check=False
        )
        assert trigger.returncode == 0, trigger.stderr[-3000:]
        _wait("the sensor to defer", lambda: ti_state("healthy") == "deferred", 240, home)
        # The trigger is persisted in the metadata database and picked up by the triggerer.
        _wait(
            "the triggerer to claim the trigger",
            lambda: meta_rows(
                "SELECT 1 FROM trigger AS t JOIN task_instance AS ti ON ti.trigger_id = t.id"
                " WHERE ti.dag_id = %s AND t.triggerer_id IS NOT NULL",
                [DAG_ID],
            ),
            120,
            home,
        )
        pg_ctl(data, "stop", mode="fast")
        threading.Event().wait(3)  # the trigger polls a dead server for a while
        pg_ctl(data, "start")
        with db.connect() as conn:
            conn.execute("SELECT pgtrickle.refresh_stream_table('public.late_totals')")
        run_state = _wait(
            "the run to finish",
            lambda: (
                (rows := meta_rows("SELECT state FROM dag_run WHERE dag_id = %s", [DAG_ID]))
                and rows[0][0] in ("success", "failed")
                and rows[0][0]
            ),
            240,
            home,
        )
        assert run_state == "success", (home / "scheduler.log").read_text()[-4000:]
        assert ti_state("healthy") == "success"
        assert ti_state("downstream") == "success"
        # Resumed from the trigger's event in the same try, not retried.
        tries = meta_rows(
            "SELECT try_number, next_method FROM task_instance WHERE dag_id = %s"
            " AND task_id = 'healthy'",
            [DAG_ID],
        )
        assert tries[0][0] == 1
        value = meta_rows(
            "SELECT value FROM xcom WHERE dag_id = %s AND task_id = 'downstream'"
            " AND key = 'return_value'",
            [DAG_ID],
        )
        assert value
        assert "healthy" in str(value[0][0])
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
        with contextlib.suppress(psycopg.Error):
            data.drop_database(db.dbname)
