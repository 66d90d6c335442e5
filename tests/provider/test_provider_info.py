"""Provider metadata, registration with Airflow, and import hygiene."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from airflow_provider_pgtrickle import __version__
from airflow_provider_pgtrickle.get_provider_info import get_provider_info

MODULES = [
    "airflow_provider_pgtrickle",
    "airflow_provider_pgtrickle.hooks.pgtrickle",
    "airflow_provider_pgtrickle.operators.pgtrickle",
    "airflow_provider_pgtrickle.sensors.pgtrickle",
    "airflow_provider_pgtrickle.triggers.pgtrickle",
    "airflow_provider_pgtrickle.assets",
    "airflow_provider_pgtrickle.lineage",
]


def run_python(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_provider_info_lists_every_module() -> None:
    info = get_provider_info()
    assert info["package-name"] == "airflow-provider-pgtrickle"
    listed = {
        module
        for kind in ("hooks", "operators", "sensors", "triggers")
        for entry in info[kind]
        for module in entry["python-modules"]
    }
    assert listed == {m for m in MODULES if m.endswith(".pgtrickle")}
    (conn_type,) = info["connection-types"]
    assert conn_type["connection-type"] == "pgtrickle"
    assert conn_type["hook-class-name"].endswith("hooks.pgtrickle.PgTrickleHook")


def test_connection_type_is_registered_declaratively_without_warnings() -> None:
    out = run_python(
        "import json, warnings\n"
        "warnings.simplefilter('error')\n"
        "from airflow.providers_manager import ProvidersManager\n"
        "from airflow.sdk.providers_manager_runtime import ProvidersManagerTaskRuntime\n"
        "hook = ProvidersManagerTaskRuntime().hooks['pgtrickle']\n"
        "behaviour = ProvidersManager().field_behaviours['pgtrickle']\n"
        "print(json.dumps({'hook': hook.hook_class_name, 'name': hook.hook_name,\n"
        "                  'attr': hook.connection_id_attribute_name,\n"
        "                  'relabeling': behaviour['relabeling']}))\n"
    )
    data = json.loads(out.strip().splitlines()[-1])
    assert data == {
        "hook": "airflow_provider_pgtrickle.hooks.pgtrickle.PgTrickleHook",
        "name": "PostgreSQL with pg_trickle",
        "attr": "postgres_conn_id",
        "relabeling": {"schema": "Database"},
    }


def test_providers_manager_registers_the_package() -> None:
    out = run_python(
        "import json\n"
        "from airflow.providers_manager import ProvidersManager\n"
        "pm = ProvidersManager()\n"
        "p = pm.providers['airflow-provider-pgtrickle']\n"
        "print(json.dumps({'version': p.version, 'hooks': list(pm.hooks)}))\n"
    )
    data = json.loads(out.strip().splitlines()[-1])
    assert data["version"] == __version__


def test_airflow_providers_list_shows_the_provider() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "airflow", "providers", "list", "-o", "json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "airflow-provider-pgtrickle" in done.stdout


def test_imports_raise_no_deprecation_warnings_and_pull_in_no_dbt_or_cosmos() -> None:
    code = (
        "import sys, warnings\n"
        "import airflow.sdk\n"
        "from airflow.sdk import BaseOperator, BaseSensorOperator\n"
        "before = set(sys.modules)\n"
        "warnings.simplefilter('error')\n"
        f"for name in {MODULES!r}:\n"
        "    __import__(name)\n"
        "new = set(sys.modules) - before\n"
        "bad = sorted(m for m in new if m.split('.')[0] in ('dbt', 'cosmos'))\n"
        "print(bad)\n"
    )
    assert run_python(code).strip() == "[]"


def test_documentation_and_how_to_links_reach_airflow() -> None:
    from airflow_provider_pgtrickle.get_provider_info import DOCS_URL

    out = run_python(
        "import json\n"
        "from airflow.providers_manager import ProvidersManager\n"
        "info = ProvidersManager().providers['airflow-provider-pgtrickle'].data\n"
        "print(json.dumps([info['documentation-url'], info['integrations'][0]['how-to-guide']]))\n"
    )
    url, guides = json.loads(out.strip().splitlines()[-1])
    # Airflow reads the documentation URL from the wheel's `Documentation` project URL.
    assert url == DOCS_URL
    assert guides
    assert all(guide.startswith(DOCS_URL) for guide in guides)


@pytest.mark.slow
def test_the_wheel_is_typed_and_carries_the_dbt_package(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[2]
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(root)],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("airflow_provider_pgtrickle-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        metadata = next(n for n in names if n.endswith(".dist-info/METADATA"))
        meta = archive.read(metadata).decode()
    assert "airflow_provider_pgtrickle/py.typed" in names
    assert "airflow_provider_pgtrickle/dbt_package/dbt_project.yml" in names
    assert "airflow_provider_pgtrickle/testing/extension/pg_trickle--0.67.0.sql" in names
    for label in ("Documentation", "Changelog", "Issues", "Source"):
        assert f"Project-URL: {label}, https://" in meta
    assert "Provides-Extra: openlineage" in meta


def test_one_version_number() -> None:
    """`__version__` is the source; the distribution, provider info and dbt package agree."""
    import importlib.metadata

    import tomllib
    import yaml  # type: ignore[import-untyped]

    root = Path(__file__).resolve().parents[2]
    pyproject = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    assert "version" not in pyproject["project"]
    assert "version" in pyproject["project"]["dynamic"]
    assert pyproject["tool"]["hatch"]["version"]["path"] == "airflow_provider_pgtrickle/__init__.py"
    dbt_project = yaml.safe_load((root / "dbt_project.yml").read_text(encoding="utf-8"))
    versions = {
        "__version__": __version__,
        "get_provider_info versions[0]": get_provider_info()["versions"][0],
        "installed distribution": importlib.metadata.version("airflow-provider-pgtrickle"),
        "dbt_project.yml version": str(dbt_project["version"]),
    }
    assert set(versions.values()) == {__version__}, versions
