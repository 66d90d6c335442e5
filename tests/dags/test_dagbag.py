"""Every example DAG imports cleanly, fast, and without touching a database.

The DagBag runs in a fresh interpreter, as Airflow's DAG processor does: nothing imported by
the test session (Cosmos, dbt, the provider) is cached, so import-time costs and warnings show.
The connection points at a closed port, so any import-time database access fails the parse.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_pgtrickle._compat import has_airflow
from airflow_provider_pgtrickle.cosmos import dbt_package_env

EXAMPLE_DAG_IDS = {
    "pgtrickle_airflow_owns_refresh_example",
    "pgtrickle_cosmos_example",
    "pgtrickle_event_driven_example",
    "pgtrickle_maintenance_example",
    "pgtrickle_operators_example",
}
# Airflow's own limit is 30 s (`dagbag_import_timeout`); with a manifest the examples must stay
# far below it. A parse over the budget surfaces as an import error.
MANIFEST_PARSE_BUDGET_S = 10
# Airflow 3.1's own ORM models use a loader SQLAlchemy 2.1 deprecates; the warning is raised
# inside Airflow (when a DAG file looks up a connection), not by anything a DAG can change.
# Airflow 3.2+ gives no such warning, so the filter applies on 3.1 only.
_AIRFLOW_31_OWN_WARNING = re.compile(r"/airflow/[^:]+:\d+: sqlalchemy\.exc\.SADeprecationWarning: ")
DBT_LS_PARSE_BUDGET_S = 30

_PROBE = textwrap.dedent(
    """
    import json, sys
    try:
        from airflow.dag_processing.dagbag import DagBag
    except ImportError:  # Airflow 3.1 keeps it in airflow.models
        from airflow.models.dagbag import DagBag

    bag = DagBag(dag_folder=sys.argv[1])
    print(json.dumps({
        "errors": {path: str(err) for path, err in bag.import_errors.items()},
        "warnings": {path: list(ws) for path, ws in bag.captured_warnings.items()},
        "dags": {dag_id: sorted(dag.task_ids) for dag_id, dag in bag.dags.items()},
    }))
    """
)


def parse_dags(dags: Path, tmp_path: Path, *, budget_s: int) -> dict[str, Any]:
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(tmp_path / "airflow-home"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
        "AIRFLOW__CORE__DAGBAG_IMPORT_TIMEOUT": str(budget_s),
        # Closed port: a DAG that connects while being parsed fails loudly.
        "AIRFLOW_CONN_POSTGRES_DEFAULT": "postgres://nobody@127.0.0.1:9/nowhere",
        # Cosmos caches `dbt ls` output in Airflow Variables, which needs a migrated metadata
        # database; the parse itself does not.
        "AIRFLOW__COSMOS__ENABLE_CACHE_DBT_LS": "False",
        # `dbt ls` runs the dbt executable that belongs to this interpreter.
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]),
        **dbt_package_env(),
    }
    env.pop("JAFFLE_STREAM_MANIFEST", None)
    done = subprocess.run(
        [sys.executable, "-W", "default", "-c", _PROBE, str(dags)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    if not has_airflow((3, 2)):
        warned = {
            path: [w for w in found if not _AIRFLOW_31_OWN_WARNING.search(w)]
            for path, found in result["warnings"].items()
        }
        result["warnings"] = {path: found for path, found in warned.items() if found}
    return result


@pytest.mark.slow
def test_every_example_dag_imports_without_errors_or_warnings(
    example_dags: Path, tmp_path: Path
) -> None:
    result = parse_dags(example_dags, tmp_path, budget_s=MANIFEST_PARSE_BUDGET_S)

    assert result["errors"] == {}
    assert result["warnings"] == {}
    assert set(result["dags"]) == EXAMPLE_DAG_IDS


@pytest.mark.slow
def test_cosmos_example_without_manifest_renders_the_same_graph_through_dbt_ls(
    example_dags: Path, bare_example_dags: Path, tmp_path: Path
) -> None:
    with_manifest = parse_dags(example_dags, tmp_path, budget_s=MANIFEST_PARSE_BUDGET_S)
    with_dbt_ls = parse_dags(bare_example_dags, tmp_path, budget_s=DBT_LS_PARSE_BUDGET_S)

    assert with_dbt_ls["errors"] == {}
    assert with_dbt_ls["dags"] == with_manifest["dags"]
