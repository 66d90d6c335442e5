"""The one-command demo, end to end, against the test server.

The demo runs in a subprocess (Airflow's configuration is process-wide) on a copy of dags/,
against the session's PostgreSQL: the test double, or the real pg_trickle of
`PGTRICKLE_TEST_DSN`. It runs the Cosmos example twice and the maintenance example once, so
this one test covers all of them. The results are then checked from a separate connection
against the raw tables.
"""

from __future__ import annotations

import itertools
import os
import re
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from psycopg.conninfo import make_conninfo

from airflow_provider_pgtrickle.testing.server import TestDatabase, TestServer

REPO_ROOT = Path(__file__).resolve().parents[2]
MARTS = "jaffle_marts"
EXPECTED_STREAM_TABLES = {
    "jaffle_staging.stg_customers",
    "jaffle_staging.stg_orders",
    "jaffle_staging.stg_events",
    "jaffle_marts.country_revenue",
    "jaffle_marts.customer_orders",
    "jaffle_marts.customer_segments",
    "jaffle_marts.daily_revenue",
    "jaffle_marts.event_counts",
}


@pytest.fixture
def demo_database(pgtrickle_server: TestServer) -> Iterator[TestDatabase]:
    name = f"pgt_demo_{uuid.uuid4().hex[:10]}"
    yield pgtrickle_server.database(name)
    pgtrickle_server.drop_database(name)


@pytest.mark.slow
def test_demo_builds_refreshes_and_reports(
    pgtrickle_server: TestServer,
    demo_database: TestDatabase,
    example_dags: Path,
    tmp_path: Path,
) -> None:
    # Trust authentication ignores it, but the password still travels through Airflow, Cosmos
    # and dbt, so the test can prove it was never written down.
    password = pgtrickle_server.password or f"pw-{uuid.uuid4().hex}"
    dsn = make_conninfo(
        "",
        host=pgtrickle_server.host,
        port=pgtrickle_server.port,
        user=pgtrickle_server.user,
        password=password,
        dbname=pgtrickle_server.admin_dbname,
        **pgtrickle_server.extra,
    )
    env = {**os.environ, "PGTRICKLE_DSN": dsn}
    for inherited in (
        "AIRFLOW_HOME",
        "AIRFLOW__CORE__DAGS_FOLDER",
        "AIRFLOW_CONN_POSTGRES_DEFAULT",
    ):
        env.pop(inherited, None)

    done = subprocess.run(
        [
            sys.executable,
            str(REPO_ROOT / "scripts" / "demo.py"),
            "--workdir",
            str(tmp_path),
            "--dags-folder",
            str(example_dags),
            "--database",
            demo_database.dbname,
            # On a server the demo did not start, --keep-server keeps the database and says
            # how to connect, without waiting.
            "--keep-server",
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    log = tmp_path / ".demo" / "demo.log"
    assert done.returncode == 0, (
        f"{done.stdout}\n{done.stderr}\n--- demo.log tail ---\n"
        f"{log.read_text(errors='replace')[-6000:] if log.exists() else ''}"
    )

    out = done.stdout
    assert ("TEST DOUBLE" in out) == pgtrickle_server.is_double
    assert "Demo finished" in out
    # One line per finished task while the DAGs run, e.g. `[3/21] stg_orders_run ... ok 1.2 s`.
    progress = re.findall(r"\[(\d+)/(\d+)\] (\S+) \.\.\. ok", out)
    assert len(progress) >= 30, out
    assert progress[0][0] == "1"
    # The count is of the DAG's tasks: it never passes its total, which never grows while a
    # DAG runs (mapped tasks used to add to it as their instances appeared).
    assert [p for p in progress if int(p[0]) > int(p[1])] == []
    grew = [
        (before, after)
        for before, after in itertools.pairwise(progress)
        if after[1] != before[1] and after[0] != "1"  # a new total only where a DAG starts
    ]
    assert grew == [], out
    assert f"Kept database `{demo_database.dbname}`" in out
    assert f"dbname={demo_database.dbname}" in out
    assert password not in out
    report = (tmp_path / "demo_output" / "report.md").read_text(encoding="utf-8")
    first_report = (tmp_path / "demo_output" / "report_first_run.md").read_text(encoding="utf-8")
    for name in EXPECTED_STREAM_TABLES:
        assert f"| {name} | ACTIVE |" in report
    assert report != first_report

    with demo_database.connect() as conn:
        statuses = dict(
            conn.execute(
                "SELECT pgt_schema || '.' || pgt_name, status FROM pgtrickle.pgt_stream_tables"
            ).fetchall()
        )
        assert statuses == dict.fromkeys(EXPECTED_STREAM_TABLES, "ACTIVE")
        # Both batches are in the sources, and the marts agree with them.
        raw = conn.execute(
            "SELECT (SELECT count(*) FROM jaffle_raw.customers),"
            " (SELECT count(*) FROM jaffle_raw.orders),"
            " (SELECT count(*) FROM jaffle_raw.events)"
        ).fetchone()
        assert raw == (2100, 10800, 32000)
        expected_customers = conn.execute(
            "SELECT count(DISTINCT customer_id), sum(amount_cents) / 100.0"
            " FROM jaffle_raw.orders WHERE status = 'completed'"
        ).fetchone()
        actual_customers = conn.execute(
            f"SELECT count(*), sum(lifetime_value) FROM {MARTS}.customer_orders"
        ).fetchone()
        assert actual_customers == expected_customers
        segments = conn.execute(
            f"SELECT sum(customers), sum(revenue) FROM {MARTS}.customer_segments"
        ).fetchone()
        assert segments == expected_customers
        daily = conn.execute(f"SELECT sum(orders) FROM {MARTS}.daily_revenue").fetchone()
        completed = conn.execute(
            "SELECT count(*) FROM jaffle_raw.orders WHERE status = 'completed'"
        ).fetchone()
        assert daily == completed
        events = conn.execute(f"SELECT sum(events) FROM {MARTS}.event_counts").fetchone()
        assert events == (32000,)

    leaked = [
        path
        for root in (tmp_path, example_dags)
        for path in root.rglob("*")
        if path.is_file() and password.encode() in path.read_bytes()
    ]
    assert leaked == []


@pytest.mark.slow
@pytest.mark.requires_double
def test_ctrl_c_stops_the_demo_promptly_and_cleans_up(example_dags: Path, tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    for inherited in ("PGTRICKLE_DSN", "AIRFLOW_HOME", "AIRFLOW__CORE__DAGS_FOLDER"):
        env.pop(inherited, None)
    proc = subprocess.Popen(
        [
            sys.executable,
            str(REPO_ROOT / "scripts" / "demo.py"),
            "--workdir",
            str(tmp_path),
            "--dags-folder",
            str(example_dags),
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)
            if re.search(r"\[1/\d+\]", line):
                break  # the first task of the first DAG run has finished
        else:
            pytest.fail("".join(lines))
        data_dir = re.search(r"at 127\.0\.0\.1:(\d+)/", "".join(lines))
        proc.send_signal(signal.SIGINT)  # what the terminal sends on Ctrl-C
        rest, _ = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    out = "".join(lines) + rest
    assert proc.returncode == 130, out
    assert out.rstrip().endswith("interrupted"), out
    assert "DEMO FAILED" not in out
    # The run was not carried on: at most a task that was finishing reported after Ctrl-C.
    assert len(re.findall(r"\[\d+/\d+\]", rest)) <= 1, out
    assert "tasks succeeded" not in out
    # The DAG run's child process and its dbt are gone, and so is the server.
    assert data_dir is not None, out
    port = data_dir.group(1)
    leftovers = subprocess.run(
        ["pgrep", "-f", "--", f"-p {port} "], capture_output=True, text=True, check=False
    ).stdout
    assert leftovers.strip() == ""
    children = subprocess.run(
        ["pgrep", "-f", str(tmp_path)], capture_output=True, text=True, check=False
    ).stdout
    assert children.strip() == ""
