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
