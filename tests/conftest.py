"""Test-session setup shared by every test folder.

Airflow reads its configuration when first imported, so the environment is prepared here,
before any test module imports it: a private AIRFLOW_HOME (SQLite metadata, no examples), so
the suite never touches a developer's ~/airflow.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent

_airflow_home = Path(tempfile.mkdtemp(prefix="pgtrickle-airflow-home-"))
atexit.register(shutil.rmtree, _airflow_home, ignore_errors=True)
os.environ["AIRFLOW_HOME"] = str(_airflow_home)
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
os.environ.setdefault("AIRFLOW__CORE__DAGS_FOLDER", str(_airflow_home / "dags"))
os.environ.setdefault("AIRFLOW__LOGGING__BASE_LOG_FOLDER", str(_airflow_home / "logs"))
# dbt writes usage statistics and version checks by default; the suite must stay offline.
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "False")
os.environ.setdefault("DBT_VERSION_CHECK", "False")


def pytest_configure(config: Any) -> None:
    config.addinivalue_line(
        "markers",
        "story: the module's tests are the steps of one scenario against one module-scoped "
        "project, so they run in file order even when the suite runs in random order",
    )


def pytest_collection_modifyitems(items: list[Any]) -> None:
    """Put the tests of each `story` module back in file order, in the places random
    ordering (pytest-randomly, which reorders before any other hook) gave them."""
    slots: dict[str, list[int]] = {}
    for index, item in enumerate(items):
        if item.get_closest_marker("story"):
            slots.setdefault(item.nodeid.split("::")[0], []).append(index)
    for places in slots.values():
        steps = sorted((items[i] for i in places), key=lambda item: item.location[1])
        for place, step in zip(places, steps, strict=True):
            items[place] = step
