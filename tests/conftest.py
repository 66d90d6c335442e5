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
