"""Bulk-load behind suspended stream tables, then bring them back in dependency order.

A big load into the sources of busy stream tables is cheaper when pg_trickle does not refresh
halfway through it. This DAG:

1. lists the stream tables of the schemas in the param `schemas`,
2. suspends each one (`status => 'SUSPENDED'`; dynamic task mapping, one task per table),
3. bulk-loads the sources (here: a deterministic batch for the jaffle_stream example),
4. resumes the suspended stream tables,
5. refreshes them in dependency order (upstream before downstream),
6. waits with a deferrable sensor until all of them are ACTIVE and healthy.

The steps are retry-safe: resuming an already active table and refreshing twice are harmless.
Needs the Airflow connection `postgres_default`; the load step expects the jaffle_stream raw
tables (`sql/jaffle_stream/create_sources.sql`).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from airflow.providers.common.sql.operators.sql import SQLExecuteQueryOperator
from airflow.sdk import DAG, Param, task

from airflow_provider_pgtrickle.operators.pgtrickle import (
    PgTrickleAlterStreamTableOperator,
    PgTrickleRefreshOperator,
    PgTrickleResumeOperator,
)
from airflow_provider_pgtrickle.sensors.pgtrickle import PgTrickleHealthSensor

CONN_ID = "postgres_default"

with DAG(
    dag_id="pgtrickle_maintenance_example",
    description="suspend stream tables, bulk-load, resume, refresh in order, wait until healthy",
    schedule=None,
    start_date=datetime(2025, 1, 1),
    catchup=False,
    tags=["pg_trickle", "example", "maintenance"],
    doc_md=__doc__,
    template_searchpath=[str(Path(__file__).resolve().parent / "sql")],
    params={
        "schemas": Param(
            ["jaffle_staging", "jaffle_marts"],
            type="array",
            items={"type": "string", "pattern": "^[a-z_][a-z0-9_]*$"},
            minItems=1,
        ),
        "customers": Param(100, type="integer", minimum=0),
        "orders": Param(800, type="integer", minimum=0),
        "events": Param(2000, type="integer", minimum=0),
    },
) as dag:

    @task
    def list_stream_tables(params: dict[str, Any] | None = None) -> list[str]:
        """`schema.name` of every stream table in the `schemas` param (filled by Airflow)."""
        from airflow_provider_pgtrickle.hooks.pgtrickle import PgTrickleHook

        schemas: list[str] = (params or {})["schemas"]
        hook = PgTrickleHook(postgres_conn_id=CONN_ID)
        return [
            table.qualified_name
            for schema in schemas
            for table in hook.list_stream_tables(schema=schema)
        ]

    stream_tables = list_stream_tables()

    suspend = PgTrickleAlterStreamTableOperator.partial(
        task_id="suspend",
        postgres_conn_id=CONN_ID,
        status="SUSPENDED",
    ).expand(stream_table=stream_tables)

    bulk_load = SQLExecuteQueryOperator(
        task_id="bulk_load",
        conn_id=CONN_ID,
        sql="jaffle_stream/load_batch.sql",
        parameters={
            "customers": "{{ params.customers }}",
            "orders": "{{ params.orders }}",
            "events": "{{ params.events }}",
        },
        # No stream tables maps `suspend` to zero tasks (skipped): load anyway.
        trigger_rule="none_failed",
    )

    resume = PgTrickleResumeOperator(
        task_id="resume",
        postgres_conn_id=CONN_ID,
        stream_tables=stream_tables,
    )

    refresh = PgTrickleRefreshOperator(
        task_id="refresh_in_dependency_order",
        postgres_conn_id=CONN_ID,
        stream_tables=stream_tables,
    )

    wait_until_healthy = PgTrickleHealthSensor(
        task_id="wait_until_healthy",
        postgres_conn_id=CONN_ID,
        stream_tables=stream_tables,
        deferrable=True,
        poke_interval=10,
        timeout=timedelta(minutes=30).total_seconds(),
    )

    suspend >> bulk_load >> resume >> refresh >> wait_until_healthy
