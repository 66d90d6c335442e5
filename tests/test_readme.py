"""The README stays true: its two commands, its reference tables, its runnable example."""

from __future__ import annotations

import inspect
import re
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_pgtrickle.operators import pgtrickle as operators
from airflow_provider_pgtrickle.sensors import pgtrickle as sensors

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()

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
]


def section(heading: str) -> str:
    """The text under a Markdown heading, up to the next heading of the same or higher level."""
    match = re.search(rf"^(#+) {re.escape(heading)}\n", README, re.MULTILINE)
    assert match, f"README has no heading {heading!r}"
    level = len(match.group(1))
    rest = README[match.end() :]
    end = re.search(rf"^#{{1,{level}}} ", rest, re.MULTILINE)
    return rest[: end.start()] if end else rest


def test_readme_opens_with_the_two_commands_and_ci_runs_the_test_command() -> None:
    opening = section("Two commands")
    assert "bash scripts/demo.sh" in opening
    assert "bash scripts/test.sh" in opening
    ci = (ROOT / ".ci" / "run").read_text()
    assert re.search(r"^(time )?bash scripts/test\.sh$", ci, re.MULTILINE)
    # The reference tables come right after the commands.
    assert README.index("## Two commands") < README.index("## Configuration reference")
    assert README.index("## Configuration reference") < README.index("## Install")


# Create-time keys taken over from the upstream dbt-pgtrickle package, documented with the
# rest of the upstream mapping in docs/dbt-upstream-compat.md.
UPSTREAM_ONLY_KEYS = [
    "temporal",
    "storage_backend",
    "pooler_compatibility_mode",
    "output_distribution_column",
]


def test_every_materialization_config_key_is_documented() -> None:
    table = section("`materialized='stream_table'` (dbt model config)")
    missing = [key for key in MATERIALIZATION_KEYS if f"`{key}`" not in table]
    assert missing == []
    compat = (ROOT / "docs" / "dbt-upstream-compat.md").read_text()
    assert [key for key in UPSTREAM_ONLY_KEYS if f"| `{key}` | added |" not in compat] == []
    config_macro = (ROOT / "macros" / "config" / "pgtrickle_stream_table_config.sql").read_text()
    read = set(re.findall(r"cfg\.get\('([a-z_]+)'", config_macro))
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


@pytest.mark.parametrize("cls", OPERATORS, ids=lambda cls: cls.__name__)
def test_every_operator_parameter_is_in_its_reference_table(cls: type[Any]) -> None:
    table = section(cls.__name__)
    params = [
        name
        for name, param in inspect.signature(cls.__init__).parameters.items()
        if name != "self" and param.kind is not inspect.Parameter.VAR_KEYWORD
    ]
    missing = [name for name in params if f"`{name}`" not in table]
    assert missing == []


def _testing_example() -> str:
    blocks = re.findall(r"```python\n(.*?)```", section("Testing your own DAGs and models"), re.S)
    assert len(blocks) == 1
    return str(blocks[0])


def test_the_testing_example_runs(pgtrickle_conn: Any, pgtrickle_airflow_conn: str) -> None:
    namespace: dict[str, Any] = {}
    exec(compile(_testing_example(), "README.md", "exec"), namespace)
    namespace["test_my_stream_table"](pgtrickle_conn, pgtrickle_airflow_conn)


def test_the_airflow_example_builds_its_dag() -> None:
    (example,) = re.findall(
        r"```python\n(.*?)```", section("Airflow: hook, operators, sensor").split("###")[0], re.S
    )
    namespace: dict[str, Any] = {}
    exec(compile(example, "README.md", "exec"), namespace)
    dag = namespace["deploy"].dag
    assert dag.dag_id == "order_totals"
    assert namespace["refresh"].upstream_task_ids == {"deploy_order_totals"}
    assert namespace["healthy"].upstream_task_ids == {"refresh"}
