"""Provider metadata, registration with Airflow, and import hygiene."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from airflow_provider_pgtrickle import __version__
from airflow_provider_pgtrickle._compat import DECLARATIVE_CONNECTION_FORMS, has_airflow
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
    if not has_airflow(DECLARATIVE_CONNECTION_FORMS):
        pytest.skip("declarative connection forms need Airflow 3.2+ (3.1: see the next test)")
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


def test_the_api_server_shows_the_labelled_connection_form_on_every_airflow() -> None:
    # What the connection form in Airflow's UI is built from (the API server's hook metadata):
    # on 3.2+ the declarative form in provider info, on 3.1 the hook's `get_ui_field_behaviour`,
    # which only 3.1 gets. Either way the `pgtrickle` type shows "Database" and placeholders.
    out = run_python(
        "import json, warnings\n"
        "from airflow.api_fastapi.core_api.services.ui.connections import HookMetaService\n"
        "with warnings.catch_warnings(record=True) as seen:\n"
        "    warnings.simplefilter('always')\n"
        "    meta = {m.connection_type: m for m in HookMetaService.hook_meta_data()}\n"
        "def fields(kind):\n"
        "    found = meta[kind].standard_fields\n"
        "    return None if found is None else found.model_dump(exclude_none=True)\n"
        "from airflow_provider_pgtrickle.hooks.pgtrickle import PgTrickleHook\n"
        "print(json.dumps({'name': meta['pgtrickle'].hook_name, 'fields': fields('pgtrickle'),\n"
        "                  'postgres': fields('postgres'),\n"
        "                  'hook_method': 'get_ui_field_behaviour' in vars(PgTrickleHook),\n"
        "                  'warnings': [str(w.message) for w in seen\n"
        "                               if 'pgtrickle' in str(w.message).lower()]}))\n"
    )
    data = json.loads(out.strip().splitlines()[-1])
    assert data["name"] == "PostgreSQL with pg_trickle"
    # No deprecation warning about our hook (3.2+ warns about hook-method forms).
    assert data["warnings"] == []
    # The deprecated hook method exists only where Airflow needs it.
    assert data["hook_method"] is (not has_airflow(DECLARATIVE_CONNECTION_FORMS))
    if data["postgres"] is None:
        # Early 3.1 releases build hook-method forms only with Flask-AppBuilder installed:
        # then no provider's form is customised, not even the Postgres provider's own.
        assert not has_airflow(DECLARATIVE_CONNECTION_FORMS)
        assert data["fields"] is None
        return
    assert data["fields"]["url_schema"] == {
        "hidden": False,
        "title": "Database",
        "placeholder": "warehouse",
    }
    assert data["fields"]["host"]["placeholder"] == "db.example.com"


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
        # Airflow reads every provider's `provider_info` entry point (Cosmos's too) once per
        # process: on 3.2+ while importing the Task SDK, on 3.1 when the Postgres hook
        # first loads. That is Airflow's discovery, not an import of ours.
        "from airflow.providers_manager import ProvidersManager\n"
        "ProvidersManager().initialize_providers_list()\n"
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
    # Airflow reads the documentation URL from the wheel's `Documentation` project URL
    # (Airflow 3.1 keeps the blank after the label's comma).
    assert url.strip() == DOCS_URL
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
