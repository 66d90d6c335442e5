"""A private copy of `dags/` per test session, with the dbt manifest and deps built.

Tests never write into the repository: `dbt deps` / `dbt parse` create `dbt_packages/`,
`target/` and `package-lock.yml` inside the copy, exactly as a deployment would.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from airflow_provider_pgtrickle.cosmos import dbt_package_env

REPO_ROOT = Path(__file__).resolve().parents[2]
DAGS_DIR = REPO_ROOT / "dags"
PROJECT_SUBDIR = Path("dbt") / "jaffle_stream"


def dbt_executable() -> str:
    beside_python = Path(sys.executable).with_name("dbt")
    return str(beside_python) if beside_python.exists() else "dbt"


def copy_dags(target: Path) -> Path:
    shutil.copytree(
        DAGS_DIR,
        target,
        ignore=shutil.ignore_patterns(
            "__pycache__", "target", "dbt_packages", "logs", "package-lock.yml"
        ),
    )
    return target


def run_dbt(project_dir: Path, *args: str) -> None:
    env = {
        **os.environ,
        **dbt_package_env(),
        "DBT_LOG_PATH": str(project_dir / "logs"),
        "DO_NOT_TRACK": "1",
    }
    done = subprocess.run(
        [
            dbt_executable(),
            *args,
            "--project-dir",
            str(project_dir),
            "--profiles-dir",
            str(project_dir),
        ],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, f"dbt {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"


@pytest.fixture(scope="session")
def example_dags(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """dags/ copied, with `dbt deps` and `dbt parse` done (manifest + installed package)."""
    dags = copy_dags(tmp_path_factory.mktemp("example") / "dags")
    project = dags / PROJECT_SUBDIR
    run_dbt(project, "deps")
    run_dbt(project, "parse")
    assert (project / "target" / "manifest.json").is_file()
    return dags


@pytest.fixture
def bare_example_dags(tmp_path: Path) -> Path:
    """dags/ copied as in the repository: no manifest, no installed dbt packages."""
    return copy_dags(tmp_path / "dags")
