"""The shipped test kit, used the way a user's own tests would use it.

Only the plugin's public fixtures (`pgtrickle_airflow`, `pgtrickle_db`) and the package's
public API appear here: no helper from this repository's tests.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import psycopg
import pytest

from airflow_provider_pgtrickle.exceptions import PgTrickleError
from airflow_provider_pgtrickle.testing.airflow import AirflowHome, TaskProgress
from airflow_provider_pgtrickle.testing.server import TestDatabase
from airflow_provider_pgtrickle.testing.versions import resolve_version

pytestmark = pytest.mark.slow

USER_DAG = textwrap.dedent(
    """
    from datetime import datetime

    from airflow.sdk import DAG, task

    from airflow_provider_pgtrickle.operators.pgtrickle import (
        PgTrickleCreateStreamTableOperator,
        PgTrickleRefreshOperator,
    )
    from airflow_provider_pgtrickle.sensors.pgtrickle import PgTrickleHealthSensor

    with DAG(dag_id="my_pipeline", schedule=None, start_date=datetime(2025, 1, 1)):
        create = PgTrickleCreateStreamTableOperator(
            task_id="create",
            stream_table="analytics.totals",
            query="SELECT kind, count(*) AS n FROM public.events GROUP BY kind",
        )
        refresh = PgTrickleRefreshOperator(task_id="refresh", stream_tables=["analytics.totals"])
        healthy = PgTrickleHealthSensor(
            task_id="healthy", stream_tables="analytics.totals", poke_interval=1, timeout=60
        )

        @task
        def fail_when_asked(**context):
            if context["params"].get("fail"):
                raise ValueError("asked to fail")
            return "done"

        create >> refresh >> healthy >> fail_when_asked()
    """
)


@pytest.fixture
def dag_file(tmp_path: Path, pgtrickle_db: TestDatabase) -> Path:
    with pgtrickle_db.connect() as conn:
        conn.execute("CREATE SCHEMA analytics")
        conn.execute("CREATE TABLE public.events (id serial PRIMARY KEY, kind text NOT NULL)")
        conn.execute("INSERT INTO public.events (kind) VALUES ('a'), ('a'), ('b')")
    path = tmp_path / "dags" / "my_pipeline.py"
    path.parent.mkdir()
    path.write_text(USER_DAG, encoding="utf-8")
    return path


def test_a_users_dag_runs_end_to_end(
    pgtrickle_airflow: AirflowHome, pgtrickle_db: TestDatabase, dag_file: Path
) -> None:
    seen: list[TaskProgress] = []

    result = pgtrickle_airflow.run_dag(
        dag_file, "my_pipeline", env=pgtrickle_db.airflow_env(), on_task=seen.append
    )

    assert result.succeeded, result.output[-4000:]
    assert result.task_states == {
        "create": "success",
        "refresh": "success",
        "healthy": "success",
        "fail_when_asked": "success",
    }
    assert result.xcoms["fail_when_asked"] == "done"
    assert [(p.task, p.state) for p in seen] == [
        ("create", "success"),
        ("refresh", "success"),
        ("healthy", "success"),
        ("fail_when_asked", "success"),
    ]
    assert [p.finished for p in seen] == [1, 2, 3, 4]
    assert {p.total for p in seen} == {4}
    assert all(p.seconds is not None and p.seconds >= 0 for p in seen)
    # What the DAG built is in the database, for any other client to read.
    with pgtrickle_db.connect() as conn:
        rows = conn.execute("SELECT kind, n FROM analytics.totals ORDER BY kind").fetchall()
    assert rows == [("a", 2), ("b", 1)]


MAPPED_DAG = textwrap.dedent(
    """
    from datetime import datetime

    from airflow.sdk import DAG, task

    with DAG(dag_id="mapped", schedule=None, start_date=datetime(2025, 1, 1)):

        @task
        def items():
            return [1, 2, 3]

        @task
        def double(x):
            return 2 * x

        @task
        def total(values):
            return sum(values)

        total(double.expand(x=items()))
    """
)


def test_progress_counts_tasks_and_never_outgrows_the_total(
    pgtrickle_airflow: AirflowHome, tmp_path: Path
) -> None:
    """A mapped task's instances appear only as it runs: they share its place in the count."""
    dag_file = tmp_path / "mapped" / "mapped.py"
    dag_file.parent.mkdir()
    dag_file.write_text(MAPPED_DAG, encoding="utf-8")
    seen: list[TaskProgress] = []

    result = pgtrickle_airflow.run_dag(dag_file, "mapped", on_task=seen.append)

    assert result.succeeded, result.output[-4000:]
    assert result.xcoms["total"] == 12
    assert sorted(p.task for p in seen) == ["double[0]", "double[1]", "double[2]", "items", "total"]
    assert {p.total for p in seen} == {3}
    assert [p.tasks_finished for p in seen] == [1, 2, 2, 2, 3]
    assert [p.finished for p in seen] == [1, 2, 3, 4, 5]


def test_a_dag_file_that_does_not_exist_says_so_not_fix_it(
    pgtrickle_airflow: AirflowHome, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(PgTrickleError) as raised:
        pgtrickle_airflow.run_dag(Path("dags/order_totals.py"), "order_totals")
    message = str(raised.value)
    assert "DAG file `dags/order_totals.py` does not exist" in message
    assert str(tmp_path / "dags" / "order_totals.py") in message
    assert "fix the DAG file" not in message
    assert "Path(__file__)" in message


def test_a_failing_task_is_named(
    pgtrickle_airflow: AirflowHome, pgtrickle_db: TestDatabase, dag_file: Path
) -> None:
    result = pgtrickle_airflow.run_dag(
        dag_file, "my_pipeline", env=pgtrickle_db.airflow_env(), conf={"fail": True}
    )

    assert not result.succeeded
    assert result.state == "failed"
    assert result.failed_tasks == ["fail_when_asked"]
    assert "asked to fail" in result.output


def test_a_dag_file_that_does_not_import_says_so(
    pgtrickle_airflow: AirflowHome, tmp_path: Path
) -> None:
    broken = tmp_path / "broken" / "broken.py"
    broken.parent.mkdir()
    broken.write_text(
        "from airflow.sdk import DAG\nimport no_such_module_for_pgtrickle\n", encoding="utf-8"
    )

    with pytest.raises(PgTrickleError, match=r"DAG `broken` could not be loaded.*no_such_module"):
        pgtrickle_airflow.run_dag(broken, "broken")


def test_serve_prints_a_working_dsn_and_stops_on_ctrl_c() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "airflow_provider_pgtrickle.testing", "serve", "--database", "kit"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    lines: list[str] = []
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)
            if "Press Ctrl-C" in line:
                break
        text = "".join(lines)
        dsn_match = re.search(r"DSN:\s+(.+)", text)
        assert dsn_match, text
        dsn = dsn_match.group(1).strip()
        assert re.search(r"psql:\s+\S*psql '", text), text
        assert "AIRFLOW_CONN_POSTGRES_DEFAULT='postgres://" in text
        with psycopg.connect(dsn) as conn:
            version = conn.execute(
                "SELECT extversion FROM pg_extension WHERE extname = 'pg_trickle'"
            ).fetchone()
            database = conn.execute("SELECT current_database()").fetchone()
        # The version the kit plays: PGTRICKLE_TEST_VERSION, else the default (0.108.3).
        assert version == (resolve_version().value,)
        assert database == ("kit",)

        proc.send_signal(signal.SIGINT)
        rest, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, rest
    assert "stopped." in rest
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(dsn, connect_timeout=3).close()
