"""Run a DAG file end to end with `dag.test()` in a child process.

Airflow's configuration (dags folder, metadata database) is process-wide, so every run gets
its own interpreter: the child points `[core] dags_folder` at the DAG file's directory, uses
the SQLite metadata database of the session's `AIRFLOW_HOME` (migrated once, under a file
lock), runs `dag.test()` (deferred tasks run with the inline triggerer) and prints the run's
state and task states as JSON on its last line.

    result = run_dag(Path("dags/my_dag.py"), "my_dag", env=pgtrickle_db.airflow_env())
    assert result.state == DagRunState.SUCCESS, result.output

`on_line` receives each output line while the run is in progress, so a test can act at a
precise moment (for example when "running trigger in line" appears).
"""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from airflow.sdk import DagRunState

RESULT_MARKER = "@@DAG_TEST_RESULT@@"
TRIGGER_STARTED = "running trigger in line"

_CHILD = r"""
import json, sys
from pathlib import Path

dag_file, dag_id, marker = sys.argv[1], sys.argv[2], sys.argv[3]
from airflow.dag_processing.dagbag import DagBag

bag = DagBag(dag_folder=dag_file)
if bag.import_errors:
    print(marker + json.dumps({"error": {k: str(v) for k, v in bag.import_errors.items()}}))
    sys.exit(3)
dag = bag.get_dag(dag_id)
if dag is None:
    print(marker + json.dumps({"error": f"dag {dag_id!r} not found in {dag_file}"}))
    sys.exit(3)
dr = dag.test()

from airflow.models.xcom import XComModel
from airflow.utils.session import create_session

with create_session() as session:
    tis = dr.get_task_instances(session=session)
    states = {ti.task_id: (str(getattr(ti.state, "value", ti.state)) if ti.state else None)
              for ti in tis}
    xcoms = {}
    for row in session.query(XComModel).filter(
        XComModel.dag_id == dag_id, XComModel.run_id == dr.run_id, XComModel.key == "return_value"
    ):
        xcoms[row.task_id] = row.value
    from airflow.models.asset import AssetEvent

    assets = sorted(
        e.asset.uri
        for e in session.query(AssetEvent).filter(
            AssetEvent.source_dag_id == dag_id, AssetEvent.source_run_id == dr.run_id
        )
    )
print(marker + json.dumps({"state": str(dr.state.value if hasattr(dr.state, "value") else dr.state),
                           "run_id": dr.run_id, "task_states": states, "xcoms": xcoms,
                           "asset_events": assets},
                          default=str))
"""


@dataclass(frozen=True)
class DagTestResult:
    """Outcome of one `dag.test()` run."""

    state: DagRunState
    task_states: dict[str, str | None]
    xcoms: dict[str, Any]
    output: str
    returncode: int
    asset_events: list[str] = field(default_factory=list)


def _airflow_home(env: Mapping[str, str]) -> Path:
    home = env.get("AIRFLOW_HOME") or os.environ.get("AIRFLOW_HOME")
    if not home:
        raise RuntimeError("AIRFLOW_HOME is not set; tests/conftest.py sets it for the session.")
    return Path(home)


def ensure_metadata_db(env: Mapping[str, str]) -> None:
    """`airflow db migrate` once per AIRFLOW_HOME (file-locked, so parallel runs are safe)."""
    home = _airflow_home(env)
    home.mkdir(parents=True, exist_ok=True)
    marker = home / ".pgtrickle-db-migrated"
    with (home / ".pgtrickle-db-migrate.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if marker.exists():
            return
        done = subprocess.run(
            [sys.executable, "-m", "airflow", "db", "migrate"],
            env=dict(env),
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"airflow db migrate failed:\n{done.stdout}\n{done.stderr}")
        marker.write_text("ok")


def child_env(dag_file: Path, env: Mapping[str, str] | None = None) -> dict[str, str]:
    merged = {**os.environ, **(env or {})}
    merged["AIRFLOW__CORE__DAGS_FOLDER"] = str(dag_file.resolve().parent)
    merged.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    # Keep unit-test-mode off: it swaps in settings (e.g. a different executor) that the
    # child does not need, and the parent's pytest plugins are not loaded there anyway.
    merged.pop("AIRFLOW__CORE__UNIT_TEST_MODE", None)
    return merged


def run_dag(
    dag_file: Path,
    dag_id: str,
    *,
    env: Mapping[str, str] | None = None,
    timeout: float = 300,
    on_line: Callable[[str], None] | None = None,
) -> DagTestResult:
    """Run ``dag_id`` from ``dag_file`` once with `dag.test()` in a child process."""
    merged = child_env(dag_file, env)
    ensure_metadata_db(merged)
    proc = subprocess.Popen(
        [sys.executable, "-c", _CHILD, str(dag_file.resolve()), dag_id, RESULT_MARKER],
        env=merged,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        bufsize=1,
    )
    lines: list[str] = []
    timer = threading.Timer(timeout, proc.kill)
    timer.start()
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)
            if on_line is not None:
                on_line(line)
        returncode = proc.wait()
    finally:
        timer.cancel()
    output = "".join(lines)
    payload: dict[str, Any] = {}
    for line in reversed(lines):
        if line.startswith(RESULT_MARKER):
            payload = json.loads(line[len(RESULT_MARKER) :])
            break
    if "state" not in payload:
        raise RuntimeError(
            f"dag.test() of {dag_id!r} produced no result (exit {returncode}):\n{output[-8000:]}"
        )
    return DagTestResult(
        state=DagRunState(payload["state"]),
        task_states=payload.get("task_states", {}),
        xcoms=payload.get("xcoms", {}),
        output=output,
        returncode=returncode,
        asset_events=payload.get("asset_events", []),
    )


def run_dag_file(
    dag_file: Path,
    dag_id: str,
    *,
    env: Mapping[str, str] | None = None,
    timeout: float = 300,
    on_line: Callable[[str], None] | None = None,
) -> DagRunState:
    """Run ``dag_id`` from ``dag_file`` with `dag.test()`; return the DAG run's state."""
    return run_dag(dag_file, dag_id, env=env, timeout=timeout, on_line=on_line).state
