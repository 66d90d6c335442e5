"""`add_stream_table_sensors` on graphs that Cosmos really rendered (from a manifest).

The manifests are written by the tests (a few nodes with the configs under test), so every case
renders in milliseconds without dbt. The example project's real manifest is covered in
tests/dags/.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from airflow.sdk import DAG, BaseOperator
from airflow.sdk.definitions.taskgroup import TaskGroup
from cosmos import DbtDag, DbtTaskGroup, LoadMode, ProjectConfig, RenderConfig, TestBehavior

from airflow_provider_pgtrickle.cosmos import (
    SchemaNaming,
    SensorLayout,
    StreamTableNode,
    add_stream_table_sensors,
    find_stream_tables,
    pgtrickle_profile_config,
)
from airflow_provider_pgtrickle.exceptions import PgTrickleValidationError
from airflow_provider_pgtrickle.sensors.pgtrickle import PgTrickleHealthSensor

PROJECT = "shop"

# name -> (config, parents)
Models = dict[str, tuple[dict[str, Any], list[str]]]

DEFAULT_MODELS: Models = {
    "stg_orders": ({"materialized": "view", "schema": "staging"}, []),
    "orders_by_day": ({"materialized": "stream_table", "schema": "marts"}, ["stg_orders"]),
    "revenue": (
        {"materialized": "stream_table", "schema": "marts", "stream_table_name": "revenue_st"},
        ["orders_by_day"],
    ),
    "aliased": ({"materialized": "stream_table", "alias": "aliased_st"}, ["stg_orders"]),
    "elsewhere": (
        {"materialized": "stream_table", "schema": "marts", "stream_table_schema": "reporting"},
        ["orders_by_day"],
    ),
    "report_view": ({"materialized": "view"}, ["revenue"]),
}


def _write_project(root: Path, models: Models) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "dbt_project.yml").write_text(
        f"name: {PROJECT}\nversion: '1.0'\nconfig-version: 2\nprofile: {PROJECT}\n",
        encoding="utf-8",
    )
    (root / "models").mkdir(exist_ok=True)
    nodes: dict[str, Any] = {}
    for name, (config, parents) in models.items():
        (root / "models" / f"{name}.sql").write_text("select 1 as x\n", encoding="utf-8")
        nodes[f"model.{PROJECT}.{name}"] = {
            "unique_id": f"model.{PROJECT}.{name}",
            "resource_type": "model",
            "package_name": PROJECT,
            "original_file_path": f"models/{name}.sql",
            "depends_on": {"nodes": [f"model.{PROJECT}.{parent}" for parent in parents]},
            "config": config,
            "tags": [],
            "fqn": [PROJECT, name],
        }
    manifest = root / "target" / "manifest.json"
    manifest.parent.mkdir(exist_ok=True)
    manifest.write_text(
        json.dumps({"metadata": {"project_name": PROJECT}, "nodes": nodes}), encoding="utf-8"
    )
    return manifest


@pytest.fixture
def render(
    tmp_path: Path,
) -> Callable[..., tuple[DAG, DbtTaskGroup]]:
    def render(models: Models = DEFAULT_MODELS, **group_kwargs: Any) -> tuple[DAG, DbtTaskGroup]:
        project = tmp_path / "project"
        manifest = _write_project(project, models)
        with DAG("health_wiring", schedule=None, start_date=datetime(2025, 1, 1)) as dag:
            group = DbtTaskGroup(
                group_id="dbt",
                project_config=ProjectConfig(project, manifest_path=manifest),
                profile_config=pgtrickle_profile_config("postgres_default", schema="analytics"),
                render_config=RenderConfig(
                    load_method=LoadMode.DBT_MANIFEST,
                    test_behavior=TestBehavior.NONE,
                    emit_datasets=False,
                ),
                **group_kwargs,
            )
        return dag, group

    return render


def _task(dag: DAG, task_id: str) -> BaseOperator:
    task = dag.get_task(task_id)
    assert isinstance(task, BaseOperator)
    return task


def test_stream_table_names_follow_the_materialization_rules(
    render: Callable[..., tuple[DAG, DbtTaskGroup]],
) -> None:
    _dag, group = render()

    found = find_stream_tables(group)

    assert found == [
        StreamTableNode(f"model.{PROJECT}.aliased", "analytics", "aliased_st"),
        StreamTableNode(f"model.{PROJECT}.orders_by_day", "analytics_marts", "orders_by_day"),
        StreamTableNode(f"model.{PROJECT}.elsewhere", "reporting", "elsewhere"),
        StreamTableNode(f"model.{PROJECT}.revenue", "analytics_marts", "revenue_st"),
    ]


def test_schema_naming_variants(render: Callable[..., tuple[DAG, DbtTaskGroup]]) -> None:
    _dag, group = render()

    as_is = find_stream_tables(group, schema_naming=SchemaNaming.CUSTOM_AS_IS)
    custom = find_stream_tables(
        group,
        target_schema="prod",
        schema_naming=lambda target, custom: f"{custom or 'base'}_{target}",
    )

    assert [t.qualified_name for t in as_is] == [
        "analytics.aliased_st",
        "marts.orders_by_day",
        "reporting.elsewhere",
        "marts.revenue_st",
    ]
    assert [t.qualified_name for t in custom] == [
        "base_prod.aliased_st",
        "marts_prod.orders_by_day",
        "reporting.elsewhere",
        "marts_prod.revenue_st",
    ]


def test_one_sensor_per_stream_table_after_its_model(
    render: Callable[..., tuple[DAG, DbtTaskGroup]],
) -> None:
    dag, group = render()

    result = add_stream_table_sensors(group, max_staleness=600)

    assert len(result.sensors) == 4
    sensor = result.sensor_for("analytics_marts.revenue_st")
    assert isinstance(sensor, PgTrickleHealthSensor)
    assert sensor.task_id == "dbt.healthy__analytics_marts__revenue_st"
    assert sensor.task_group is group
    assert sensor.upstream_task_ids == {"dbt.revenue_run"}
    assert sensor.downstream_task_ids == set()
    # The report view reading `revenue` is not gated unless asked for.
    assert _task(dag, "dbt.report_view_run").upstream_task_ids == {"dbt.revenue_run"}
    assert all(s.deferrable for s in result.sensors)  # type: ignore[attr-defined]
    assert {s.postgres_conn_id for s in result.sensors} == {"postgres_default"}  # type: ignore[attr-defined]


def test_tasks_wired_after_the_group_wait_for_every_sensor(
    render: Callable[..., tuple[DAG, DbtTaskGroup]],
) -> None:
    dag, group = render()
    result = add_stream_table_sensors(group)
    with dag:
        report = BaseOperator(task_id="report")
        group >> report

    sensor_ids = {sensor.task_id for sensor in result.sensors}
    assert sensor_ids <= report.upstream_task_ids
    # Only the leaves of the group feed the report: models followed by a sensor are not leaves.
    assert "dbt.revenue_run" not in report.upstream_task_ids


def test_one_sensor_for_all_and_explicit_downstream(
    render: Callable[..., tuple[DAG, DbtTaskGroup]],
) -> None:
    dag, group = render()
    with dag:
        already_wired = BaseOperator(task_id="already_wired")
        group >> already_wired

    result = add_stream_table_sensors(
        group, layout=SensorLayout.ONE_FOR_ALL, downstream=[already_wired]
    )

    (sensor,) = result.sensors
    assert sensor.task_id == "dbt.healthy__stream_tables"
    assert sensor.stream_tables == [t.qualified_name for t in result.stream_tables]  # type: ignore[attr-defined]
    assert sensor.upstream_task_ids == {
        "dbt.aliased_run",
        "dbt.orders_by_day_run",
        "dbt.elsewhere_run",
        "dbt.revenue_run",
    }
    assert sensor.task_id in already_wired.upstream_task_ids
    assert result.sensor_for("reporting.elsewhere") is sensor


def test_gate_dbt_children_makes_readers_wait_for_the_sensor(
    render: Callable[..., tuple[DAG, DbtTaskGroup]],
) -> None:
    dag, group = render()

    add_stream_table_sensors(group, gate_dbt_children=True)

    assert _task(dag, "dbt.report_view_run").upstream_task_ids == {
        "dbt.revenue_run",
        "dbt.healthy__analytics_marts__revenue_st",
    }
    assert (
        "dbt.healthy__analytics_marts__orders_by_day"
        in _task(dag, "dbt.revenue_run").upstream_task_ids
    )


def test_gate_dbt_children_with_one_sensor_is_refused(
    render: Callable[..., tuple[DAG, DbtTaskGroup]],
) -> None:
    _dag, group = render()

    with pytest.raises(PgTrickleValidationError, match="per_stream_table"):
        add_stream_table_sensors(group, layout="one_for_all", gate_dbt_children=True)


def test_unknown_layout_lists_the_accepted_values(
    render: Callable[..., tuple[DAG, DbtTaskGroup]],
) -> None:
    _dag, group = render()

    with pytest.raises(
        PgTrickleValidationError, match=r"`per_table`.*per_stream_table, one_for_all"
    ):
        add_stream_table_sensors(group, layout="per_table")


def test_names_pg_trickle_cannot_handle_are_rejected_before_any_task_is_added(
    render: Callable[..., tuple[DAG, DbtTaskGroup]],
) -> None:
    models: Models = {
        "good": ({"materialized": "stream_table"}, []),
        "bad": ({"materialized": "stream_table", "stream_table_name": "Revenue"}, []),
    }
    dag, group = render(models)
    before = set(dag.task_ids)

    with pytest.raises(
        PgTrickleValidationError, match=r"`analytics\.Revenue`.*model `model\.shop\.bad`"
    ):
        add_stream_table_sensors(group)
    assert set(dag.task_ids) == before


def test_no_stream_tables_means_no_sensors(
    render: Callable[..., tuple[DAG, DbtTaskGroup]],
) -> None:
    dag, group = render({"only_view": ({"materialized": "view"}, [])})

    result = add_stream_table_sensors(group)

    assert result.sensors == ()
    assert result.stream_tables == ()
    assert dag.task_ids == ["dbt.only_view_run"]


def test_target_schema_is_required_when_the_profile_does_not_name_one(
    render: Callable[..., tuple[DAG, DbtTaskGroup]],
) -> None:
    _dag, group = render()
    group.dbt_graph.profile_config.profile_mapping.profile_args.pop("schema")

    with pytest.raises(PgTrickleValidationError, match="target_schema="):
        find_stream_tables(group)
    assert find_stream_tables(group, target_schema="x")[0].schema == "x"


def test_rejects_objects_that_cosmos_did_not_render() -> None:
    with pytest.raises(PgTrickleValidationError, match="not a Cosmos-rendered"):
        add_stream_table_sensors(TaskGroup(group_id="plain", dag=DAG("plain", schedule=None)))


def test_dbt_dag_gets_sensors_at_the_dag_level(tmp_path: Path) -> None:
    project = tmp_path / "project"
    manifest = _write_project(project, DEFAULT_MODELS)
    dag = DbtDag(
        dag_id="health_wiring_dbt_dag",
        schedule=None,
        start_date=datetime(2025, 1, 1),
        project_config=ProjectConfig(project, manifest_path=manifest),
        profile_config=pgtrickle_profile_config(schema="analytics"),
        render_config=RenderConfig(
            load_method=LoadMode.DBT_MANIFEST, test_behavior=TestBehavior.NONE
        ),
    )

    result = add_stream_table_sensors(dag, task_id_prefix="fresh")

    assert {sensor.task_id for sensor in result.sensors} == {
        "fresh__analytics__aliased_st",
        "fresh__analytics_marts__orders_by_day",
        "fresh__reporting__elsewhere",
        "fresh__analytics_marts__revenue_st",
    }
    assert all(sensor.task_group is None or sensor.task_group.is_root for sensor in result.sensors)
