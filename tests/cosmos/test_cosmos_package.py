"""Where the dbt package is found, and that DAG-side imports stay free of Cosmos and dbt."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import yaml

from airflow_provider_pgtrickle.cosmos import (
    DBT_PACKAGE_ENV_VAR,
    dbt_package_env,
    dbt_package_path,
)

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_dbt_package_path_points_at_the_dbt_pg_trickle_package() -> None:
    path = dbt_package_path()

    assert path.is_absolute()
    assert (path / "macros").is_dir()
    project = (path / "dbt_project.yml").read_text(encoding="utf-8")
    assert "name: dbt_pg_trickle" in project


def test_source_checkout_resolves_to_the_repository_root() -> None:
    # This suite runs from an editable install; a wheel would give .../dbt_package instead.
    bundled = REPO_ROOT / "airflow_provider_pgtrickle" / "dbt_package"
    expected = bundled if (bundled / "dbt_project.yml").is_file() else REPO_ROOT
    assert dbt_package_path() == expected


def test_dbt_package_env_names_the_variable_packages_yml_reads() -> None:
    assert dbt_package_env() == {DBT_PACKAGE_ENV_VAR: str(dbt_package_path())}
    assert dbt_package_env("OTHER") == {"OTHER": str(dbt_package_path())}


def test_example_packages_yml_uses_the_env_var_not_a_relative_path() -> None:
    packages = (REPO_ROOT / "dags" / "dbt" / "jaffle_stream" / "packages.yml").read_text(
        encoding="utf-8"
    )
    entries = yaml.safe_load(packages)["packages"]
    assert entries == [{"local": f"{{{{ env_var('{DBT_PACKAGE_ENV_VAR}') }}}}"}]


def test_importing_the_provider_and_the_cosmos_helpers_does_not_import_cosmos_or_dbt() -> None:
    # Airflow itself loads Cosmos's cluster-policy plugin (an entry point) when it starts, so
    # the baseline is "after importing Airflow"; the provider must add nothing to it.
    probe = textwrap.dedent(
        """
        import sys

        def loaded():
            return {n for n in sys.modules if n.split(".")[0] in {"cosmos", "dbt", "agate"}}

        import airflow.sdk
        baseline = loaded()
        import airflow_provider_pgtrickle
        import airflow_provider_pgtrickle.cosmos as helpers
        helpers.dbt_package_path()
        print(",".join(sorted(loaded() - baseline)))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=REPO_ROOT
    )
    assert done.stdout.strip().splitlines()[-1:] in ([], [""])
