"""Run your DAG files end to end in tests, against a pg_trickle database.

Airflow's `dag.test()` needs a migrated metadata database and a DAG that was parsed from a
file in the configured DAGs folder; inside a test process whose Airflow is already configured
neither holds (``no such table: task_instance``, then "the dag is not serialized"). So every
run gets its own interpreter: :class:`AirflowHome` owns a private ``AIRFLOW_HOME`` with a
SQLite metadata database migrated once (file-locked, so parallel test workers share it), and
:meth:`AirflowHome.run_dag` runs one DAG file with ``dag.test()`` in a child process that
points ``[core] dags_folder`` at the file's directory. Deferrable tasks run with Airflow's
inline triggerer.

With the `pgtrickle` pytest plugin installed (``airflow-provider-pgtrickle[testing]``)::

    def test_my_dag(pgtrickle_airflow, pgtrickle_db):
        result = pgtrickle_airflow.run_dag(
            Path("dags/my_dag.py"), "my_dag", env=pgtrickle_db.airflow_env()
        )
        assert result.succeeded, result.output
        assert result.task_states["wait_healthy"] == "success"
"""

from __future__ import annotations

import fcntl
import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["AirflowHome", "DagRunResult", "TaskProgress"]

RESULT_MARKER = "@@PGTRICKLE_DAG_RESULT@@"
TASK_MARKER = "@@PGTRICKLE_TASK@@"
TASK_COUNT_MARKER = "@@PGTRICKLE_TASK_COUNT@@"
#: Printed by Airflow when a deferred task's trigger starts in the inline triggerer.
TRIGGER_STARTED = "running trigger in line"

# The child process. It prints one TASK_MARKER line per finished task (from an Airflow
# listener, so progress needs no polling of the metadata database) and the result as JSON
# after RESULT_MARKER on its last line.
# Its Airflow imports come first, on their own so a test can check them on any Airflow:
# Airflow 3.2 moved two of them; 3.1 has only the old homes (which warn on 3.2+).
_CHILD_IMPORTS = r"""
from airflow.listeners import hookimpl

try:
    from airflow.dag_processing.dagbag import DagBag
except ImportError:
    from airflow.models.dagbag import DagBag
try:
    from airflow.sdk.listener import get_listener_manager
except ImportError:
    from airflow.listeners.listener import get_listener_manager
"""
_CHILD = (
    _CHILD_IMPORTS
    + r"""
import json, sys, time

dag_file, dag_id, conf_json = sys.argv[1], sys.argv[2], sys.argv[3]
RESULT, TASK, COUNT = sys.argv[4], sys.argv[5], sys.argv[6]


def _name(ti):
    index = getattr(ti, "map_index", -1)
    return ti.task_id if index is None or index < 0 else f"{ti.task_id}[{index}]"


class _Progress:
    def __init__(self):
        self.started = {}

    def _done(self, ti, state):
        began = self.started.pop(_name(ti), None)
        seconds = round(time.monotonic() - began, 3) if began is not None else None
        print(TASK + json.dumps({"task": _name(ti), "state": state, "seconds": seconds}),
              flush=True)

    @hookimpl
    def on_task_instance_running(self, previous_state, task_instance):
        self.started.setdefault(_name(task_instance), time.monotonic())

    @hookimpl
    def on_task_instance_success(self, previous_state, task_instance):
        self._done(task_instance, "success")

    @hookimpl
    def on_task_instance_failed(self, previous_state, task_instance, error):
        self._done(task_instance, "failed")

    @hookimpl
    def on_task_instance_skipped(self, previous_state, task_instance):
        self._done(task_instance, "skipped")


bag = DagBag(dag_folder=dag_file)
if bag.import_errors:
    print(RESULT + json.dumps({"error": {k: str(v) for k, v in bag.import_errors.items()}}))
    sys.exit(3)
dag = bag.get_dag(dag_id)
if dag is None:
    print(RESULT + json.dumps({"error": f"DAG {dag_id!r} not found in {dag_file}"}))
    sys.exit(3)
get_listener_manager().add_listener(_Progress())
print(COUNT + str(len(dag.task_dict)), flush=True)
dr = dag.test(run_conf=json.loads(conf_json) or None)

from airflow.models.asset import AssetEvent
from airflow.models.xcom import XComModel
from airflow.utils.session import create_session

with create_session() as session:
    states = {
        _name(ti): (str(getattr(ti.state, "value", ti.state)) if ti.state else None)
        for ti in dr.get_task_instances(session=session)
    }
    xcoms = {
        row.task_id: row.value
        for row in session.query(XComModel).filter(
            XComModel.dag_id == dag_id,
            XComModel.run_id == dr.run_id,
            XComModel.key == "return_value",
        )
    }
    assets = sorted(
        event.asset.uri
        for event in session.query(AssetEvent).filter(
            AssetEvent.source_dag_id == dag_id, AssetEvent.source_run_id == dr.run_id
        )
    )
state = dr.state.value if hasattr(dr.state, "value") else dr.state
print(RESULT + json.dumps({"state": str(state), "run_id": dr.run_id, "task_states": states,
                           "xcoms": xcoms, "asset_events": assets}, default=str))
"""
)


@dataclass(frozen=True)
class TaskProgress:
    """One task instance that finished during :meth:`AirflowHome.run_dag`."""

    task: str
    state: str
    seconds: float | None
    #: How many task instances had finished, this one included (each map index counts).
    finished: int
    #: How many tasks the DAG defines (a mapped task counts once: how many instances it
    #: expands to is known only when it runs).
    total: int
    #: How many of the DAG's tasks had finished an instance, this one included: a mapped task
    #: counts once, so this never exceeds ``total`` (a progress count that does not grow).
    tasks_finished: int = 0


@dataclass(frozen=True)
class DagRunResult:
    """Outcome of one ``dag.test()`` run of a DAG file."""

    dag_id: str
    run_id: str
    #: The DAG run's state: ``"success"`` or ``"failed"`` (equal to Airflow's ``DagRunState``).
    state: str
    #: State per task id (``task[3]`` for a mapped index); ``None`` for tasks that never ran.
    task_states: dict[str, str | None]
    #: Each task's ``return_value`` XCom.
    xcoms: dict[str, Any]
    #: URIs of the asset events the run emitted, sorted.
    asset_events: list[str]
    #: Everything the child process printed (Airflow's and your tasks' logs).
    output: str
    returncode: int

    @property
    def succeeded(self) -> bool:
        """The run succeeded and no task ended in another state than success or skipped."""
        return self.state == "success" and not self.failed_tasks

    @property
    def failed_tasks(self) -> list[str]:
        """Tasks that did not end in ``success`` or ``skipped``, sorted."""
        return sorted(
            task for task, state in self.task_states.items() if state not in ("success", "skipped")
        )


@dataclass(frozen=True)
class AirflowHome:
    """A private ``AIRFLOW_HOME`` with a SQLite metadata database, for running DAG files.

    :param path: the directory; created when missing. Nothing outside it is written.
    :param environment: more variables for every child process (connections, settings).
    """

    path: Path
    environment: Mapping[str, str] = field(default_factory=dict)

    def env(
        self, dag_file: Path | None = None, extra: Mapping[str, str] | None = None
    ) -> dict[str, str]:
        """The environment a child process runs with (the current one plus this home's)."""
        merged = {**os.environ, **self.environment, **(extra or {})}
        merged["AIRFLOW_HOME"] = str(self.path)
        merged["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = f"sqlite:///{self.path / 'airflow.db'}"
        merged["AIRFLOW__LOGGING__BASE_LOG_FOLDER"] = str(self.path / "logs")
        merged.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
        merged["AIRFLOW__CORE__DAGS_FOLDER"] = str(
            dag_file.resolve().parent if dag_file else self.path / "dags"
        )
        # A parent pytest run may have unit-test mode on; it swaps settings the child must not
        # inherit (another executor, other defaults).
        merged.pop("AIRFLOW__CORE__UNIT_TEST_MODE", None)
        return merged

    def migrate(self) -> None:
        """Run ``airflow db migrate`` once for this home (later calls return at once)."""
        self.path.mkdir(parents=True, exist_ok=True)
        marker = self.path / ".pgtrickle-db-migrated"
        with (self.path / ".pgtrickle-db-migrate.lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if marker.exists():
                return
            done = subprocess.run(
                [sys.executable, "-m", "airflow", "db", "migrate"],
                env=self.env(),
                capture_output=True,
                text=True,
                check=False,
            )
            if done.returncode != 0:
                from airflow_provider_pgtrickle.exceptions import PgTrickleError

                raise PgTrickleError(
                    f"`airflow db migrate` failed for the Airflow home `{self.path}` "
                    f"(exit {done.returncode}):\n{done.stdout[-4000:]}{done.stderr[-4000:]}\n"
                    "Fix the error above; delete the directory to start from scratch."
                )
            marker.write_text("ok", encoding="utf-8")

    def run_dag(
        self,
        dag_file: Path,
        dag_id: str,
        *,
        env: Mapping[str, str] | None = None,
        conf: Mapping[str, Any] | None = None,
        timeout: float = 600,
        on_line: Callable[[str], None] | None = None,
        on_task: Callable[[TaskProgress], None] | None = None,
    ) -> DagRunResult:
        """Run ``dag_id`` from ``dag_file`` once with ``dag.test()`` in a child process.

        :param env: more environment variables, e.g. ``pgtrickle_db.airflow_env()`` for
            the connection.
        :param conf: the DAG run's ``conf``.
        :param timeout: seconds before the child is killed (the result then says so).
        :param on_line: called with each line the child prints, while it runs.
        :param on_task: called when a task instance finishes.
        :raises PgTrickleError: the DAG file does not exist, does not import, the DAG is not
            in it, or the child ended without a result.
        """
        if not dag_file.is_file():
            from airflow_provider_pgtrickle.exceptions import PgTrickleError

            # A relative path is read from the current directory, which pytest does not set to
            # the test's folder: say where it was looked for, and how to anchor it.
            raise PgTrickleError(
                f"DAG file `{dag_file}` does not exist (looked for `{dag_file.resolve()}`; "
                f"the current directory is `{Path.cwd()}`). Pass a path that exists, e.g. "
                "`Path(__file__).resolve().parents[1] / 'dags' / 'my_dag.py'` from a test in "
                "`tests/`."
            )
        self.migrate()
        proc = subprocess.Popen(
            [
                sys.executable,
                "-c",
                _CHILD,
                str(dag_file.resolve()),
                dag_id,
                json.dumps(dict(conf or {})),
                RESULT_MARKER,
                TASK_MARKER,
                TASK_COUNT_MARKER,
            ],
            env=self.env(dag_file, env),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            bufsize=1,
            # Its own process group: a Ctrl-C in the terminal reaches the caller only, which
            # decides (see `stop`), and dbt or other grandchildren die with the group.
            start_new_session=True,
        )
        timer = threading.Timer(timeout, _kill_group, args=(proc,))
        timer.start()
        lines: list[str] = []
        total = finished = 0
        tasks_done: set[str] = set()
        try:
            assert proc.stdout is not None
            for line in proc.stdout:
                lines.append(line)
                if line.startswith(TASK_COUNT_MARKER):
                    total = int(line[len(TASK_COUNT_MARKER) :])
                elif line.startswith(TASK_MARKER):
                    finished += 1
                    data = json.loads(line[len(TASK_MARKER) :])
                    tasks_done.add(str(data["task"]).split("[", 1)[0])
                    if on_task is not None:
                        on_task(
                            TaskProgress(
                                finished=finished,
                                total=total,
                                tasks_finished=len(tasks_done),
                                **data,
                            )
                        )
                if on_line is not None:
                    on_line(line)
            returncode = proc.wait()
        except BaseException:
            # KeyboardInterrupt included: never leave the child (and its dbt) running.
            _kill_group(proc)
            raise
        finally:
            timer.cancel()
        return _result(dag_id, lines, returncode, timeout)


def _kill_group(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is not None:
        return
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=5)
            return
        except subprocess.TimeoutExpired:
            continue


def _result(dag_id: str, lines: list[str], returncode: int, timeout: float) -> DagRunResult:
    from airflow_provider_pgtrickle.exceptions import PgTrickleError

    output = "".join(lines)
    payload: dict[str, Any] = {}
    for line in reversed(lines):
        if line.startswith(RESULT_MARKER):
            payload = json.loads(line[len(RESULT_MARKER) :])
            break
    if "error" in payload:
        raise PgTrickleError(
            f"DAG `{dag_id}` could not be loaded: {payload['error']}; fix the DAG file."
        )
    if "state" not in payload:
        raise PgTrickleError(
            f"`dag.test()` of DAG `{dag_id}` ended without a result (exit {returncode}; "
            f"killed after {timeout:.0f} s if it ran that long). Its output ends with:\n"
            f"{output[-6000:]}\nRead the output above for the failing step."
        )
    return DagRunResult(
        dag_id=dag_id,
        run_id=str(payload.get("run_id", "")),
        state=str(payload["state"]),
        task_states=dict(payload.get("task_states", {})),
        xcoms=dict(payload.get("xcoms", {})),
        asset_events=list(payload.get("asset_events", [])),
        output=output,
        returncode=returncode,
    )
