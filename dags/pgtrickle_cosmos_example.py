"""dbt + Cosmos + pg_trickle: stream-table models, health sensors, then a report.

The dbt project `dbt/jaffle_stream` (a small shop: customers, orders, events) reads three raw
tables through staging stream tables into a chain of stream-table marts. Cosmos renders it as
the task group `jaffle_stream` (one `dbt build` task per model, its tests included).
`add_stream_table_sensors` then puts a deferrable `PgTrickleHealthSensor` after every
stream-table model, and the report task runs only once all of them are healthy.

Parse time: Airflow re-parses this file before every task, so it reads the project from a
prebuilt manifest when one exists (`LoadMode.DBT_MANIFEST`, well under a second) and falls back
to `dbt ls` (several seconds) otherwise. Build the manifest at deploy time::

    cd dags/dbt/jaffle_stream
    export DBT_PG_TRICKLE_PATH="$(python -m airflow_provider_pgtrickle.cosmos)"
    dbt deps && dbt parse          # writes target/manifest.json and dbt_packages/

With `dbt_packages/` present, tasks skip `dbt deps` (`install_dbt_deps=False`).
Nothing here touches a database at import time.

Needs: the Airflow connection `postgres_default` (a PostgreSQL 18 database with pg_trickle)
and the raw tables of `sql/jaffle_stream/` (the demo, `scripts/demo.sh`, creates them).
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from typing import Any

from airflow.sdk import DAG, task
from cosmos import DbtTaskGroup, LoadMode, ProjectConfig, RenderConfig, TestBehavior

from airflow_provider_pgtrickle.cosmos import (
    add_stream_table_sensors,
    dbt_package_env,
    pgtrickle_profile_config,
)

CONN_ID = "postgres_default"
PROJECT_DIR = Path(__file__).resolve().parent / "dbt" / "jaffle_stream"
# A manifest built elsewhere (CI, the demo) can be named explicitly.
MANIFEST = Path(
    os.environ.get("JAFFLE_STREAM_MANIFEST") or PROJECT_DIR / "target" / "manifest.json"
)
DEPS_INSTALLED = (PROJECT_DIR / "dbt_packages" / "dbt_pg_trickle").exists()
TARGET_SCHEMA = "jaffle"
STAGING_SCHEMA = f"{TARGET_SCHEMA}_staging"
MARTS_SCHEMA = f"{TARGET_SCHEMA}_marts"

with DAG(
    dag_id="pgtrickle_cosmos_example",
    description="dbt stream-table marts via Cosmos, gated by pg_trickle health sensors",
    schedule=None,
    start_date=datetime(2025, 1, 1),
    catchup=False,
    tags=["pg_trickle", "dbt", "cosmos", "example"],
    doc_md=__doc__,
) as dag:
    # --8<-- [start:task_group]
    jaffle_stream = DbtTaskGroup(
        group_id="jaffle_stream",
        project_config=ProjectConfig(
            PROJECT_DIR,
            manifest_path=MANIFEST if MANIFEST.is_file() else None,
            install_dbt_deps=not DEPS_INSTALLED,
            env_vars=dbt_package_env(),
        ),
        profile_config=pgtrickle_profile_config(CONN_ID, schema=TARGET_SCHEMA, threads=2),
        render_config=RenderConfig(
            load_method=LoadMode.DBT_MANIFEST if MANIFEST.is_file() else LoadMode.DBT_LS,
            # One `dbt build --select <model>` per model: the model and its tests together.
            test_behavior=TestBehavior.BUILD,
            # A test reading two models runs in its own task after both (instead of with the
            # first model, before the second exists).
            should_detach_multiple_parents_tests=True,
            emit_datasets=False,
        ),
    )
    # --8<-- [end:task_group]

    # One sensor per stream table, created inside the task group: everything wired after
    # the group below waits until each table is ACTIVE, populated and error-free. Add
    # `max_staleness=` to also require a recent refresh (meaningful for duration schedules;
    # a CALCULATED table is only refreshed when its sources change).
    # --8<-- [start:sensors]
    add_stream_table_sensors(
        jaffle_stream,
        postgres_conn_id=CONN_ID,
        poke_interval=10,
        timeout=30 * 60,
    )
    # --8<-- [end:sensors]

    @task
    def write_report() -> dict[str, Any]:
        """Write a Markdown report of the marts; return where it went and headline numbers."""
        path = Path(
            os.environ.get("JAFFLE_STREAM_REPORT")
            or Path(os.environ.get("AIRFLOW_HOME", "~/airflow")).expanduser()
            / "reports"
            / "jaffle_stream.md"
        )
        return build_report(
            conn_id=CONN_ID, schemas=[STAGING_SCHEMA, MARTS_SCHEMA], marts=MARTS_SCHEMA, path=path
        )

    jaffle_stream >> write_report()


def build_report(*, conn_id: str, schemas: list[str], marts: str, path: Path) -> dict[str, Any]:
    """Read the marts and the status of the stream tables; write Markdown to `path`."""
    from airflow.providers.postgres.hooks.postgres import PostgresHook
    from psycopg import sql

    with PostgresHook(postgres_conn_id=conn_id).get_conn() as conn, conn.cursor() as cur:

        def rows(query: str | sql.Composable, *params: Any) -> list[tuple[Any, ...]]:
            cur.execute(query, params or None)
            return list(cur.fetchall())

        tables = rows(
            "SELECT pgt_schema, pgt_name, status, refresh_mode, coalesce(schedule, 'calculated'),"
            " date_trunc('second', staleness), last_refresh_at"
            " FROM pgtrickle.pg_stat_stream_tables WHERE pgt_schema = ANY(%s)"
            " ORDER BY pgt_schema DESC, pgt_name",
            schemas,
        )
        counts = {
            (schema, name): rows(
                sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(schema, name))
            )[0][0]
            for schema, name, *_ in tables
        }

        def mart(query: str) -> list[tuple[Any, ...]]:
            return rows(sql.SQL(query).format(schema=sql.Identifier(marts)))

        segments = mart(
            "SELECT segment, customers, revenue FROM {schema}.customer_segments"
            " ORDER BY revenue DESC"
        )
        countries = mart(
            "SELECT country, customers, completed_orders, revenue FROM {schema}.country_revenue"
            " ORDER BY revenue DESC LIMIT 5"
        )
        days = mart(
            "SELECT order_date, orders, revenue FROM {schema}.daily_revenue"
            " ORDER BY order_date DESC LIMIT 7"
        )
        events = mart("SELECT event_type, events FROM {schema}.event_counts ORDER BY events DESC")

    total_revenue = sum(revenue for _, _, revenue in segments)
    total_customers = sum(customers for _, customers, _ in segments)
    lines = [
        "# jaffle_stream report",
        "",
        f"{total_customers} customers with completed orders, revenue {total_revenue:,.2f}.",
        "",
        "## Stream tables",
        "",
        "| stream table | status | mode | schedule | rows | staleness | last refresh |",
        "|---|---|---|---|---:|---|---|",
        *(
            f"| {schema}.{name} | {status} | {mode} | {schedule} | {counts[schema, name]} "
            f"| {staleness} | {last:%Y-%m-%d %H:%M:%S} |"
            for schema, name, status, mode, schedule, staleness, last in tables
        ),
        "",
        "## Customer segments",
        "",
        "| segment | customers | revenue |",
        "|---|---:|---:|",
        *(f"| {seg} | {n} | {rev:,.2f} |" for seg, n, rev in segments),
        "",
        "## Top countries",
        "",
        "| country | customers | completed orders | revenue |",
        "|---|---:|---:|---:|",
        *(f"| {c} | {n} | {o} | {rev:,.2f} |" for c, n, o, rev in countries),
        "",
        "## Last seven days with orders",
        "",
        "| day | orders | revenue |",
        "|---|---:|---:|",
        *(f"| {d} | {o} | {rev:,.2f} |" for d, o, rev in days),
        "",
        "## Events",
        "",
        "| event | count |",
        "|---|---:|",
        *(f"| {e} | {n} |" for e, n in events),
        "",
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines), encoding="utf-8")
    return {
        "report": str(path),
        "customers": total_customers,
        "revenue": float(total_revenue),
        "rows": {f"{schema}.{name}": n for (schema, name), n in counts.items()},
    }
