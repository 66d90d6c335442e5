"""Run DAG files with `dag.test()` from this repository's tests.

A thin layer over the shipped test kit (`airflow_provider_pgtrickle.testing.airflow`), using
the session's `AIRFLOW_HOME` (set in tests/conftest.py) so the suite migrates one metadata
database. Users' tests use the `pgtrickle_airflow` fixture instead.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from airflow_provider_pgtrickle.testing.airflow import TRIGGER_STARTED, AirflowHome, DagRunResult

__all__ = [
    "TRIGGER_STARTED",
    "AirflowTaskTimeout",
    "DagRunResult",
    "TaskDeferred",
    "context",
    "run_dag",
]

# Airflow 3.2 moved these into the Task SDK (the old homes warn there); 3.1 has only the old.
try:
    from airflow.sdk.exceptions import AirflowTaskTimeout, TaskDeferred
except ImportError:  # Airflow 3.1
    from airflow.exceptions import AirflowTaskTimeout, TaskDeferred  # type: ignore[no-redef]


def run_dag(
    dag_file: Path,
    dag_id: str,
    *,
    env: Mapping[str, str] | None = None,
    conf: Mapping[str, Any] | None = None,
    timeout: float = 300,
    on_line: Callable[[str], None] | None = None,
) -> DagRunResult:
    """Run ``dag_id`` from ``dag_file`` once with `dag.test()` in a child process."""
    home = AirflowHome(Path(os.environ["AIRFLOW_HOME"]))
    return home.run_dag(dag_file, dag_id, env=env, conf=conf, timeout=timeout, on_line=on_line)


class FakeTaskInstance:
    """Records `xcom_push` calls (the only part of the task instance the operators use)."""

    def __init__(self) -> None:
        self.xcom: dict[str, Any] = {}

    def xcom_push(self, key: str, value: Any) -> None:
        self.xcom[key] = value


class OutletEvents(dict):  # type: ignore[type-arg]
    """Stands in for the task context's `outlet_events` accessor: records added assets."""

    def __getitem__(self, key: Any) -> Any:
        # Keyed by the alias's name, as Airflow's accessor is (Airflow 3.1's `AssetAlias` is
        # not hashable).
        return super().__getitem__(key.name)

    def __missing__(self, key: Any) -> Any:
        recorder = _Recorder()
        self[key] = recorder
        return recorder


class _Recorder:
    def __init__(self) -> None:
        self.assets: list[Any] = []

    def add(self, asset: Any, extra: Any = None) -> None:
        self.assets.append(asset)


def context() -> dict[str, Any]:
    """The parts of a task context the operators read, without a task runner."""
    return {"outlet_events": OutletEvents(), "ti": FakeTaskInstance()}
