"""The README and the docs site stay true: commands, reference tables, runnable examples."""

from __future__ import annotations

import inspect
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_pgtrickle.operators import pgtrickle as operators
from airflow_provider_pgtrickle.sensors import pgtrickle as sensors
from airflow_provider_pgtrickle.testing.airflow import AirflowHome
from airflow_provider_pgtrickle.testing.server import TestDatabase
from airflow_provider_pgtrickle.vocabulary.config import Surface, arguments

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
DOCS = ROOT / "docs"

MATERIALIZATION_KEYS = [
    "schedule",
    "refresh_mode",
    "initialize",
    "status",
    "stream_table_name",
    "stream_table_schema",
    "cdc_mode",
    "partition_by",
    "append_only",
    "fuse",
    "fuse_ceiling",
    "fuse_sensitivity",
    "diamond_consistency",
    "diamond_schedule_policy",
    "max_differential_joins",
    "max_delta_fraction",
    "on_configuration_change",
    "orchestration_mode",
    "target_freshness",
]


def section(text: str, heading: str) -> str:
    """The text under a Markdown heading, up to the next heading of the same or higher level."""
    match = re.search(rf"^(#+) {re.escape(heading)}\n", text, re.MULTILINE)
    assert match, f"no heading {heading!r}"
    level = len(match.group(1))
    rest = text[match.end() :]
    end = re.search(rf"^#{{1,{level}}} ", rest, re.MULTILINE)
    return rest[: end.start()] if end else rest


def python_blocks(text: str) -> list[str]:
    return [str(block) for block in re.findall(r"```python\n(.*?)```", text, re.S)]


def test_readme_is_short_and_opens_with_the_two_commands() -> None:
    assert len(README.splitlines()) < 200
    opening = section(README, "Two commands")
    assert "bash scripts/demo.sh" in opening
    assert "bash scripts/test.sh" in opening
    ci = (ROOT / ".ci" / "run").read_text()
    assert re.search(r"^(time )?bash scripts/test\.sh$", ci, re.MULTILINE)
    assert README.index("## Two commands") < README.index("## Quickstart")


def test_readme_links_point_at_files_that_exist() -> None:
    targets = re.findall(r"\]\(((?!https?://)[^)#]+)(?:#[^)]*)?\)", README)
    assert targets
    assert [t for t in targets if not (ROOT / t).exists()] == []


# Create-time keys taken over from the upstream dbt-pgtrickle package, documented with the
# rest of the upstream mapping in docs/dbt-upstream-compat.md.
UPSTREAM_ONLY_KEYS = [
    "temporal",
    "storage_backend",
    "pooler_compatibility_mode",
    "output_distribution_column",
]


def test_every_materialization_config_key_is_documented() -> None:
    table = section((DOCS / "dbt" / "materialization.md").read_text(), "Configuration")
    missing = [key for key in MATERIALIZATION_KEYS if f"`{key}`" not in table]
    assert missing == []
    compat = (DOCS / "dbt-upstream-compat.md").read_text()
    assert [key for key in UPSTREAM_ONLY_KEYS if f"| `{key}` | added |" not in compat] == []
    # The keys the dbt package reads are the vocabulary's model arguments plus the name keys
    # (macros/config/pgtrickle_config_raw.sql).
    raw_macro = (ROOT / "macros" / "config" / "pgtrickle_config_raw.sql").read_text()
    read = set(re.findall(r"cfg\.get\('([a-z_]+)'", raw_macro))
    read |= {a.name for a in arguments(Surface.MODEL)}
    documented = set(MATERIALIZATION_KEYS) | set(UPSTREAM_ONLY_KEYS)
    assert read <= documented, read - documented


OPERATORS = [
    cls
    for module in (operators, sensors)
    for name, cls in vars(module).items()
    if inspect.isclass(cls)
    and cls.__module__ == module.__name__
    and not name.startswith("_")
    and name.endswith(("Operator", "Sensor"))
]


def test_the_operator_list_is_complete() -> None:
    assert sorted(cls.__name__ for cls in OPERATORS) == [
        "PgTrickleAlterStreamTableOperator",
        "PgTrickleCreateStreamTableOperator",
        "PgTrickleDropStreamTableOperator",
        "PgTrickleHealthSensor",
        "PgTrickleRefreshOperator",
        "PgTrickleResumeOperator",
    ]


def _reference(cls: type[Any]) -> str:
    if cls.__name__.endswith("Sensor"):
        return (DOCS / "airflow" / "sensor.md").read_text()
    return section((DOCS / "airflow" / "operators.md").read_text(), cls.__name__)


@pytest.mark.parametrize("cls", OPERATORS, ids=lambda cls: cls.__name__)
def test_every_operator_parameter_is_in_its_reference_table(cls: type[Any]) -> None:
    table = _reference(cls)
    params = [
        name
        for name, param in inspect.signature(cls.__init__).parameters.items()
        if name != "self" and param.kind is not inspect.Parameter.VAR_KEYWORD
    ]
    missing = [name for name in params if f"`{name}`" not in table]
    assert missing == []


def test_the_fixture_example_runs(pgtrickle_conn: Any, pgtrickle_airflow_conn: str) -> None:
    text = (DOCS / "testing-your-dags.md").read_text()
    (example,) = [b for b in python_blocks(text) if "def test_my_stream_table" in b]
    namespace: dict[str, Any] = {}
    exec(compile(example, "testing-your-dags.md", "exec"), namespace)
    namespace["test_my_stream_table"](pgtrickle_conn, pgtrickle_airflow_conn)


def test_the_readme_dag_builds() -> None:
    (example,) = [b for b in python_blocks(README) if "with DAG(" in b]
    namespace: dict[str, Any] = {}
    exec(compile(example, "README.md", "exec"), namespace)
    assert namespace["deploy"].dag.dag_id == "order_totals"
    assert namespace["refresh"].upstream_task_ids == {"deploy"}
    assert namespace["healthy"].upstream_task_ids == {"refresh"}


def bash_blocks(text: str) -> list[str]:
    return [str(block) for block in re.findall(r"```bash\n(.*?)```", text, re.S)]


def _project(tmp_path: Path, page: str) -> tuple[Path, str]:
    """A user's project from a quickstart page: `dags/order_totals.py` and
    `tests/test_order_totals.py` as written there."""
    text = (ROOT / page).read_text(encoding="utf-8")
    (dag_code,) = [b for b in python_blocks(text) if "with DAG(" in b]
    (test_code,) = [b for b in python_blocks(text) if "def test_order_totals" in b]
    project = tmp_path / "project"
    (project / "dags").mkdir(parents=True)
    (project / "tests").mkdir()
    (project / "dags" / "order_totals.py").write_text(dag_code, encoding="utf-8")
    return project, test_code


@pytest.mark.slow
@pytest.mark.parametrize("page", ["README.md", "docs/quickstart.md"])
def test_the_quickstart_dag_and_its_test_pass_as_written(
    pgtrickle_airflow: AirflowHome,
    pgtrickle_db: TestDatabase,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    page: str,
) -> None:
    """The page's DAG, saved as dags/order_totals.py, passes the page's own test, saved as
    tests/test_order_totals.py, whatever directory pytest runs in."""
    project, test_code = _project(tmp_path, page)
    test_file = project / "tests" / "test_order_totals.py"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # not the project: the test must find its DAG by itself
    namespace: dict[str, Any] = {"__file__": str(test_file)}
    exec(compile(test_code, str(test_file), "exec"), namespace)

    namespace["test_order_totals"](pgtrickle_airflow, pgtrickle_db)

    with pgtrickle_db.connect() as conn:
        status = conn.execute(
            "SELECT status FROM pgtrickle.pgt_stream_tables WHERE pgt_name = 'order_totals'"
        ).fetchone()
    assert status == ("ACTIVE",)


@pytest.mark.slow
def test_the_quickstart_commands_run_as_written(pgtrickle_db: TestDatabase, tmp_path: Path) -> None:
    """Step 3's shell lines (AIRFLOW_HOME, `airflow db migrate`, `airflow dags test`), run in
    a shell with no Airflow settings but the connection the serve command prints."""
    project, _ = _project(tmp_path, "docs/quickstart.md")
    text = (DOCS / "quickstart.md").read_text(encoding="utf-8")
    (commands,) = [b for b in bash_blocks(text) if "airflow dags test" in b]
    assert "airflow db migrate" in commands
    with pgtrickle_db.connect() as conn:
        conn.execute(
            "CREATE TABLE public.orders (id serial PRIMARY KEY, customer text, amount numeric)"
        )
        conn.execute("INSERT INTO public.orders (customer, amount) VALUES ('ada', 10), ('bob', 7)")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env.update(pgtrickle_db.airflow_env())
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", commands],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert done.returncode == 0, (done.stdout + done.stderr)[-6000:]
    assert (project / "airflow-home" / "airflow.db").is_file()
    with pgtrickle_db.connect() as conn:
        rows = conn.execute("SELECT customer, total FROM public.order_totals ORDER BY 1").fetchall()
    assert [(c, int(t)) for c, t in rows] == [("ada", 10), ("bob", 7)]


def test_every_docs_page_is_in_the_nav() -> None:
    nav = (ROOT / "mkdocs.yml").read_text()
    pages = sorted(str(p.relative_to(DOCS)) for p in DOCS.rglob("*.md"))
    assert [page for page in pages if page not in nav] == []


@pytest.mark.parametrize("page", ["install.md", "pg_trickle-contract.md"])
def test_the_supported_pg_trickle_versions_match_the_declaration(page: str) -> None:
    from airflow_provider_pgtrickle.capabilities import supported_text

    text = (DOCS / page).read_text(encoding="utf-8")
    assert f"Tested pg_trickle versions: **{supported_text()}**" in text
