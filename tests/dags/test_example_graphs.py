"""The example DAGs are wired as their docstrings say (checked on the parsed task graph)."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest

try:
    from airflow.dag_processing.dagbag import DagBag
except ImportError:  # Airflow 3.1 keeps it in airflow.models
    from airflow.models.dagbag import DagBag  # type: ignore[no-redef]

from airflow_provider_pgtrickle.sensors.pgtrickle import PgTrickleHealthSensor

GROUP = "jaffle_stream"
STREAM_TABLE_MODELS = {
    # dbt model -> stream table (fct_daily_revenue overrides its name)
    "stg_customers": "jaffle_staging.stg_customers",
    "stg_orders": "jaffle_staging.stg_orders",
    "stg_events": "jaffle_staging.stg_events",
    "customer_orders": "jaffle_marts.customer_orders",
    "customer_segments": "jaffle_marts.customer_segments",
    "country_revenue": "jaffle_marts.country_revenue",
    "fct_daily_revenue": "jaffle_marts.daily_revenue",
    "event_counts": "jaffle_marts.event_counts",
}


@pytest.fixture(scope="module")
def bag(example_dags: Path) -> DagBag:
    # The event-driven example resolves its connection while parsing (for the asset URI), as
    # the DAG processor does; a closed port makes any actual database access fail loudly.
    with pytest.MonkeyPatch.context() as env:
        env.setenv("AIRFLOW_CONN_POSTGRES_DEFAULT", "postgres://nobody@127.0.0.1:9/nowhere")
        bag = DagBag(dag_folder=str(example_dags))
    assert bag.import_errors == {}
    return bag


def _dag(bag: DagBag, dag_id: str) -> Any:
    # `DagBag.get_dag` consults the metadata database; the parsed DAGs are all we need.
    return bag.dags[dag_id]


def test_cosmos_example_gates_the_report_on_one_sensor_per_stream_table(bag: DagBag) -> None:
    dag = _dag(bag, "pgtrickle_cosmos_example")
    sensors = {task.task_id: task for task in dag.tasks if isinstance(task, PgTrickleHealthSensor)}

    expected = {
        f"{GROUP}.healthy__{table.replace('.', '__')}": (model, table)
        for model, table in STREAM_TABLE_MODELS.items()
    }
    assert set(sensors) == set(expected)
    for task_id, (model, table) in expected.items():
        sensor = sensors[task_id]
        assert sensor.stream_tables == [table]
        assert sensor.deferrable is True
        assert sensor.upstream_task_ids == {f"{GROUP}.{model}_model_build"}
    report = dag.get_task("write_report")
    assert set(sensors) <= report.upstream_task_ids


def test_cosmos_example_renders_every_model_and_the_two_parent_test(bag: DagBag) -> None:
    dag = _dag(bag, "pgtrickle_cosmos_example")

    builds = {t.task_id for t in dag.tasks if t.task_id.endswith("_model_build")}
    assert builds == {f"{GROUP}.{name}_model_build" for name in STREAM_TABLE_MODELS}
    detached = dag.get_task(f"{GROUP}.assert_segments_cover_customers_test")
    assert detached.upstream_task_ids == {
        f"{GROUP}.customer_orders_model_build",
        f"{GROUP}.customer_segments_model_build",
    }


def test_operators_example_is_a_straight_line(bag: DagBag) -> None:
    dag = _dag(bag, "pgtrickle_operators_example")
    order = [
        "create_source",
        "create_stream_table",
        "refresh",
        "wait_until_healthy",
        "top_customers",
    ]

    for upstream, downstream in pairwise(order):
        assert dag.get_task(downstream).upstream_task_ids == {upstream}
    assert dag.get_task("wait_until_healthy").deferrable is True


def test_maintenance_example_suspends_per_table_then_loads_resumes_refreshes_waits(
    bag: DagBag,
) -> None:
    dag = _dag(bag, "pgtrickle_maintenance_example")

    suspend = dag.get_task("suspend")
    assert type(suspend).__name__ == "MappedOperator"
    assert suspend.upstream_task_ids == {"list_stream_tables"}
    order = ["suspend", "bulk_load", "resume", "refresh_in_dependency_order", "wait_until_healthy"]
    for upstream, downstream in pairwise(order):
        # The table list feeds every step after the load as well (an XCom argument).
        assert dag.get_task(downstream).upstream_task_ids - {"list_stream_tables"} == {upstream}
    assert dag.params["schemas"] == ["jaffle_staging", "jaffle_marts"]
