"""Airflow owns refresh: dbt deploys stream tables as EXTERNAL, Airflow refreshes them.

The pattern for teams whose sources are loaded by Airflow: pg_trickle's scheduler does not
refresh these tables at all (`orchestration_mode='EXTERNAL'`, pg_trickle 0.93.0+); the DAG
refreshes them right after their sources load, in graph order, and only then lets what comes
after run. Steps:

1. `load_sources` appends a batch to the raw tables (a stand-in for your ingestion).
2. Cosmos renders the dbt project `dbt/jaffle_stream` with the variable
   `pgtrickle_orchestration_mode: EXTERNAL`, so every model is deployed (or kept) EXTERNAL.
3. `refresh_in_graph_order` refreshes the marts with their whole upstream closure (the
   staging stream tables) through `graph_contract()` + `refresh_graph_strict()`: one
   transaction, members locked, refreshed upstream first, committed all or nothing; its XCom
   `graph_refresh` holds the graph refresh id, the digest and one result per table.
4. `marts_healthy` (a health sensor) gates the report.

On a pg_trickle without EXTERNAL (before 0.93.0, e.g. 0.67.0) step 2 fails naming the release
that brings it. See docs/airflow-owns-refresh.md. Nothing here touches a database at import
time. Needs the Airflow connection `postgres_default` (PostgreSQL 18 with pg_trickle).
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from typing import Any

from airflow.sdk import DAG, task
from cosmos import DbtTaskGroup, LoadMode, ProjectConfig, RenderConfig, TestBehavior

from airflow_provider_pgtrickle.cosmos import dbt_package_env, pgtrickle_profile_config
from airflow_provider_pgtrickle.operators.pgtrickle import PgTrickleRefreshOperator
from airflow_provider_pgtrickle.sensors.pgtrickle import PgTrickleHealthSensor

CONN_ID = "postgres_default"
HERE = Path(__file__).resolve().parent
PROJECT_DIR = HERE / "dbt" / "jaffle_stream"
SQL_DIR = HERE / "sql" / "jaffle_stream"
MANIFEST = Path(
    os.environ.get("JAFFLE_STREAM_MANIFEST") or PROJECT_DIR / "target" / "manifest.json"
)
DEPS_INSTALLED = (PROJECT_DIR / "dbt_packages" / "dbt_pg_trickle").exists()
TARGET_SCHEMA = "jaffle_ext"
MARTS_SCHEMA = f"{TARGET_SCHEMA}_marts"
BATCH = {"customers": 20, "orders": 60, "events": 120}

with DAG(
    dag_id="pgtrickle_airflow_owns_refresh_example",
    description="dbt deploys EXTERNAL stream tables; Airflow refreshes them after each load",
    schedule=None,
    start_date=datetime(2025, 1, 1),
    catchup=False,
    tags=["pg_trickle", "dbt", "cosmos", "example"],
    doc_md=__doc__,
) as dag:

    @task
    def load_sources() -> dict[str, int]:
        """Create the raw tables if missing and append one batch (your ingestion goes here)."""
        from airflow.providers.postgres.hooks.postgres import PostgresHook

        with PostgresHook(postgres_conn_id=CONN_ID).get_conn() as conn, conn.cursor() as cur:
            cur.execute((SQL_DIR / "create_sources.sql").read_text(encoding="utf-8"))
            cur.execute((SQL_DIR / "load_batch.sql").read_text(encoding="utf-8"), BATCH)
            loaded = cur.fetchone()
            conn.commit()
        assert loaded is not None
        return {"customers": loaded[0], "orders": loaded[1], "events": loaded[2]}

    # --8<-- [start:deploy]
    deploy = DbtTaskGroup(
        group_id="deploy",
        project_config=ProjectConfig(
            PROJECT_DIR,
            manifest_path=MANIFEST if MANIFEST.is_file() else None,
            install_dbt_deps=not DEPS_INSTALLED,
            env_vars=dbt_package_env(),
            # dbt_project.yml reads it: +orchestration_mode for every model.
            dbt_vars={"pgtrickle_orchestration_mode": "EXTERNAL"},
        ),
        profile_config=pgtrickle_profile_config(CONN_ID, schema=TARGET_SCHEMA, threads=2),
        render_config=RenderConfig(
            load_method=LoadMode.DBT_MANIFEST if MANIFEST.is_file() else LoadMode.DBT_LS,
            test_behavior=TestBehavior.BUILD,
            should_detach_multiple_parents_tests=True,
            emit_datasets=False,
        ),
    )
    # --8<-- [end:deploy]

    # --8<-- [start:refresh]
    # The marts are the roots; their upstream closure (the staging tables) comes along, and
    # pg_trickle orders, locks and commits the whole graph in one transaction.
    refresh = PgTrickleRefreshOperator(
        task_id="refresh_in_graph_order",
        postgres_conn_id=CONN_ID,
        schema=MARTS_SCHEMA,
        full_policy="ALLOW",
    )
    marts_healthy = PgTrickleHealthSensor(
        task_id="marts_healthy",
        postgres_conn_id=CONN_ID,
        schema=MARTS_SCHEMA,
        poke_interval=5,
        timeout=10 * 60,
    )
    # --8<-- [end:refresh]

    @task
    def report() -> dict[str, Any]:
        """What downstream consumers read once the marts are refreshed and healthy."""
        from airflow.providers.postgres.hooks.postgres import PostgresHook
        from psycopg import sql

        with PostgresHook(postgres_conn_id=CONN_ID).get_conn() as conn, conn.cursor() as cur:
            cur.execute(
                sql.SQL("SELECT count(*), coalesce(sum(revenue), 0) FROM {}").format(
                    sql.Identifier(MARTS_SCHEMA, "customer_segments")
                )
            )
            found = cur.fetchone()
        assert found is not None
        return {"segments": found[0], "revenue": float(found[1])}

    # --8<-- [start:wiring]
    load_sources() >> deploy >> refresh >> marts_healthy >> report()
    # --8<-- [end:wiring]
