"""A project written for the upstream dbt-pgtrickle package runs with ours, end to end.

tests/dbt/upstream_project/ uses only upstream's config keys, run-operations (names and
arguments), helper macros and test arguments, with the package name changed from
`dbt_pgtrickle` to `dbt_pg_trickle` (docs/dbt-upstream-compat.md has the mapping). One database
and one copy of the project, deployed once per module (`deployed`: deps, seed, run), go through
test and every upstream run-operation. Each dbt call costs seconds, so the tests share the
deployment, but none depends on another: each starts from it (`baseline`), in any order and any
subset; when a test left the catalog or the source data changed, the project is dropped and
deployed again first. The catalog is read on a new connection, so an uncommitted change fails
the assertions.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml  # type: ignore[import-untyped]
from psycopg.rows import dict_row

from airflow_provider_pgtrickle.testing.server import TestDatabase, TestServer

from ._project import DbtProject, Deployed

# every test starts from the deployment (`baseline`, tests/dbt/conftest.py)
pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("baseline")]

UPSTREAM_PROJECT = Path(__file__).with_name("upstream_project")
SCHEMA = "upstream"
REPORTING = "upstream_reporting"

# model -> the stream table it manages
STREAM_TABLES = {
    "order_totals": f"{SCHEMA}.order_totals",
    "order_totals_auto": f"{SCHEMA}.order_totals_auto",
    "order_extremes": f"{SCHEMA}.order_extremes",
    "order_totals_fused": f"{SCHEMA}.order_totals_fused",
    "order_totals_partitioned": f"{SCHEMA}.order_totals_partitioned",
    "customer_stats": f"{REPORTING}.customer_stats_st",
    "daily_orders": f"{SCHEMA}.daily_orders",
    "paused_totals": f"{SCHEMA}.paused_totals",
}


def _arguments_to_top_level(schema_yml: Path) -> None:
    """dbt 1.9 has no `arguments:` on generic tests: write them the way upstream's project does."""
    doc = yaml.safe_load(schema_yml.read_text(encoding="utf-8"))
    for model in doc["models"]:
        for test in model.get("tests", []):
            if isinstance(test, dict):
                for spec in test.values():
                    spec.update(spec.pop("arguments", {}))
    schema_yml.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")


@pytest.fixture(scope="module")
def dbt_db(pgtrickle_server: TestServer) -> Iterator[TestDatabase]:
    with pgtrickle_server.fresh_database() as db:
        yield db


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory, dbt_db: TestDatabase) -> DbtProject:
    proj = DbtProject.create(tmp_path_factory.mktemp("dbt"), dbt_db.dbt_env(), UPSTREAM_PROJECT)
    deps = proj.dbt("deps")
    version = re.search(r"Running with dbt=(\d+)\.(\d+)", deps.output)
    assert version is not None, deps.output
    if (int(version[1]), int(version[2])) < (1, 10):
        _arguments_to_top_level(proj.path / "models" / "marts" / "schema.yml")
    return proj


def catalog(db: TestDatabase) -> dict[str, dict[str, Any]]:
    """`schema.name` -> catalog row, read on a new connection."""
    with db.admin_connect(row_factory=dict_row) as conn:
        rows = conn.execute(
            "select pgt_schema || '.' || pgt_name as qname, schedule, refresh_mode, status,"
            " is_populated, requested_cdc_mode, is_append_only, fuse_mode, fuse_ceiling,"
            " fuse_sensitivity, st_partition_key, pooler_compatibility_mode, temporal_mode,"
            " storage_backend, diamond_consistency, diamond_schedule_policy,"
            " max_differential_joins, max_delta_fraction,"
            " (select count(*) from pgtrickle.pgt_refresh_history h where h.pgt_id = s.pgt_id"
            "  and h.initiated_by = 'MANUAL') as refreshes"
            " from pgtrickle.pgt_stream_tables s"
        ).fetchall()
    return {row.pop("qname"): row for row in rows}


def state(db: TestDatabase) -> tuple[Any, ...]:
    """What a test may change and the next one would notice: the catalog (without the refresh
    counts, which tests compare before and after) and the source data."""
    tables = {
        name: {k: v for k, v in row.items() if k != "refreshes"}
        for name, row in catalog(db).items()
    }
    with db.connect() as conn:
        source = conn.execute(
            "select md5(coalesce(string_agg(t::text, ',' order by t::text), ''))"
            f" from {SCHEMA}.raw_orders as t"
        ).fetchone()
    return tuple(sorted(tables.items())), source


def refreshes(db: TestDatabase) -> dict[str, int]:
    """Refreshes asked for by a call (history rows `initiated_by = 'MANUAL'`): a real
    pg_trickle's scheduler also refreshes these tables on its own while the module runs."""
    return {name: row["refreshes"] for name, row in catalog(db).items()}


def rows_of(db: TestDatabase, query: str) -> list[tuple[Any, ...]]:
    # as the superuser: pg_trickle 0.96+ grants no other role its catalog
    with db.admin_connect() as conn:
        return conn.execute(query).fetchall()


def test_upstream_config_keys_create_the_stream_tables(
    dbt_db: TestDatabase, deployed: Deployed
) -> None:
    run = deployed.run

    assert run.messages() == {model: "created" for model in STREAM_TABLES}
    cat = catalog(dbt_db)
    assert set(cat) == set(STREAM_TABLES.values())
    # project-level +schedule / +refresh_mode, overridden per model
    assert (
        cat[f"{SCHEMA}.order_totals"]["schedule"],
        cat[f"{SCHEMA}.order_totals"]["refresh_mode"],
    ) == ("5m", "DIFFERENTIAL")
    auto = cat[f"{SCHEMA}.order_totals_auto"]
    assert auto["schedule"] is None  # schedule=none: CALCULATED
    assert auto["refresh_mode"] in {"DIFFERENTIAL", "FULL"}  # what AUTO resolved to
    assert cat[f"{SCHEMA}.order_extremes"]["refresh_mode"] == "FULL"
    fused = cat[f"{SCHEMA}.order_totals_fused"]
    assert (fused["fuse_mode"], fused["fuse_ceiling"], fused["fuse_sensitivity"]) == (
        "auto",
        100000,
        3,
    )
    assert cat[f"{SCHEMA}.order_totals_partitioned"]["st_partition_key"] == "customer_id"
    stats = cat[f"{REPORTING}.customer_stats_st"]  # stream_table_name / stream_table_schema
    assert (stats["schedule"], stats["requested_cdc_mode"], stats["is_append_only"]) == (
        "2m",
        "trigger",
        True,
    )
    daily = cat[f"{SCHEMA}.daily_orders"]
    assert daily["is_populated"] is False  # initialize=false
    assert daily["pooler_compatibility_mode"] is True
    assert (daily["temporal_mode"], daily["storage_backend"]) == (False, "heap")
    assert (daily["diamond_consistency"], daily["diamond_schedule_policy"]) == ("atomic", "fastest")
    assert (daily["max_differential_joins"], daily["max_delta_fraction"]) == (3, 0.25)
    assert cat[f"{SCHEMA}.paused_totals"]["status"] == "SUSPENDED"  # status='PAUSED'


def test_compile_has_no_warnings(project: DbtProject) -> None:
    result = project.dbt("compile")
    assert "WARN" not in result.output.upper().replace("WARN_ERROR", "")


def test_health_test_takes_warn_seconds(project: DbtProject) -> None:
    tested = project.dbt("test")

    statuses = tested.statuses("test.")
    over = [uid for uid in statuses if "stream_table_healthy_order_extremes_0" in uid]
    assert len(over) == 1, statuses
    # warn_seconds: 0 is exceeded by every refreshed table; its severity: warn makes it a warning
    assert statuses.pop(over[0]) == "warn"
    assert statuses
    assert set(statuses.values()) == {"pass"}
    assert sum("stream_table_healthy" in uid for uid in statuses) == 6

    project.write(
        "tests/probes/bad_warn_seconds.sql",
        "{{ dbt_pg_trickle.test_stream_table_healthy(ref('order_totals'),"
        " warn_seconds='soon') }}\n",
    )
    try:
        bad = project.dbt("test", "--select", "path:tests/probes", expect_ok=False)
    finally:
        project.remove("tests/probes/bad_warn_seconds.sql")
    assert (
        "stream_table_healthy on `order_totals`: warn_seconds `soon` is not a number of"
        " seconds >= 0" in bad.output
    )


def test_refresh_operations_take_upstream_arguments(
    project: DbtProject, dbt_db: TestDatabase
) -> None:
    with dbt_db.connect() as conn:
        conn.execute(f"insert into {SCHEMA}.raw_orders values (7, 4, 40.00, '2026-01-05')")
    customer_4 = "select total_amount from {} where customer_id = 4"
    before = refreshes(dbt_db)

    project.dbt("run-operation", "pgtrickle_refresh", "--args", "{model_name: order_totals}")
    project.dbt(
        "run-operation",
        "pgtrickle_refresh",
        "--args",
        f"{{model_name: customer_stats_st, schema: {REPORTING}}}",
    )
    assert rows_of(dbt_db, customer_4.format(f"{SCHEMA}.order_totals")) == [(40,)]
    assert rows_of(dbt_db, customer_4.format(f"{REPORTING}.customer_stats_st")) == [(40,)]
    assert rows_of(dbt_db, customer_4.format(f"{SCHEMA}.order_totals_fused")) == []

    # only the managed stream tables in that schema
    project.dbt("run-operation", "refresh_all_stream_tables", "--args", f"{{schema: {SCHEMA}}}")
    after = refreshes(dbt_db)
    assert after[f"{REPORTING}.customer_stats_st"] == before[f"{REPORTING}.customer_stats_st"] + 1
    assert after[f"{SCHEMA}.order_totals"] == before[f"{SCHEMA}.order_totals"] + 2
    assert after[f"{SCHEMA}.paused_totals"] == before[f"{SCHEMA}.paused_totals"]  # SUSPENDED
    for model in (
        "order_totals_auto",
        "order_totals_fused",
        "order_totals_partitioned",
        "order_extremes",
        "daily_orders",
    ):
        assert after[f"{SCHEMA}.{model}"] == before[f"{SCHEMA}.{model}"] + 1, model
    assert rows_of(dbt_db, customer_4.format(f"{SCHEMA}.order_totals_fused")) == [(40,)]


def test_health_operations_and_helper_macros(project: DbtProject, dbt_db: TestDatabase) -> None:
    cdc = project.dbt("run-operation", "pgtrickle_check_cdc_health")
    assert f"pg_trickle: cdc: {SCHEMA}.raw_orders: TRIGGER, healthy" in cdc.output

    with dbt_db.connect() as conn:
        [(started,)] = conn.execute("select now()").fetchall()
    fresh = project.dbt("run-operation", "pgtrickle_check_freshness", "--args", "{warn_seconds: 0}")
    active = [name for name, row in catalog(dbt_db).items() if row["status"] == "ACTIVE"]
    # A real server's scheduler may refresh a table (a CALCULATED one: every second) right
    # before or during the check, and such a table is not yet over 0 s; every other one is.
    with dbt_db.admin_connect() as conn:
        [(just_refreshed,)] = conn.execute(
            "select count(*) from pgtrickle.pgt_stream_tables"
            " where status = 'ACTIVE' and last_refresh_at >= %s - interval '1 second'",
            (started,),
        ).fetchall()
    counts = re.search(
        r"freshness: (\d+) checked, (\d+) over warn_seconds, 0 over error_seconds", fresh.output
    )
    assert counts is not None, fresh.output
    assert int(counts[1]) == len(active)
    assert len(active) - just_refreshed <= int(counts[2]) <= len(active)

    stale = project.dbt(
        "run-operation",
        "pgtrickle_check_freshness",
        "--args",
        "{model_name: order_totals, warn_seconds: 0, error_seconds: 0}",
        expect_ok=False,
    )
    assert (
        "freshness check failed: 1 stream table(s) not refreshed for more than 0s:"
        f" {SCHEMA}.order_totals;" in stale.output
    )

    with dbt_db.connect() as conn:
        has_monitoring = conn.execute(
            "select to_regprocedure('pgtrickle.setup_self_monitoring()') is not null"
        ).fetchone() == (True,)
        superuser = conn.execute(
            "select rolsuper from pg_roles where rolname = current_user"
        ).fetchone() == (True,)
    # setup_self_monitoring creates stream tables over pg_trickle's own catalog, whose capture
    # triggers on pgtrickle.pgt_refresh_history only the extension's owner may create
    # (src/api/self_monitoring.rs): as PGTRICKLE_TEST_ROLE=least it is refused.
    allowed = has_monitoring and superuser
    monitoring = project.dbt("run-operation", "pgtrickle_enable_monitoring", expect_ok=allowed)
    if has_monitoring and not superuser:
        assert "permission denied for table pgt_refresh_history" in monitoring.output
    elif has_monitoring:
        assert "pg_trickle: self-monitoring enabled" in monitoring.output
        with dbt_db.admin_connect() as conn:
            row = conn.execute(
                "select count(*) from pgtrickle.pgt_stream_tables where pgt_name like 'df\\_%'"
            ).fetchone()
        assert row is not None
        assert row[0] > 0
    else:  # the double has no self-monitoring
        assert "this pg_trickle has no `pgtrickle.setup_self_monitoring()`" in monitoring.output

    before = refreshes(dbt_db)
    report = project.dbt("run-operation", "report_stream_tables")
    lines = [
        line.split("report: ", 1)[1] for line in report.output.splitlines() if "report: " in line
    ]
    assert lines[0].startswith("order_totals status=")
    assert lines[0].split("status=")[1].split()[0] in {"healthy", "drained", "stale"}
    assert "populated=True" in lines[0]
    assert lines[1:5] == [
        "no_such_table status=not_found",
        "exists=True,True,False",
        f"{SCHEMA}.order_totals schedule=5m mode=DIFFERENTIAL fuse=off",
        "create_or_replace=True",
    ]
    assert refreshes(dbt_db)[f"{SCHEMA}.order_extremes"] == before[f"{SCHEMA}.order_extremes"] + 1
    assert "pg_trickle: drain: scheduler drained" in report.output


def test_drop_operations_keep_upstream_meanings(project: DbtProject, dbt_db: TestDatabase) -> None:
    # pg_trickle's own self-monitoring stream tables (`pgtrickle.df_*`), which
    # `pgtrickle_enable_monitoring` created above on a real server (the double has none): not the
    # project's, so the project-only drop keeps them; the forced drop takes them too, as
    # upstream's does (pg_trickle's teardown_self_monitoring drops them the same way).
    monitoring = {name for name in catalog(dbt_db) if name.startswith("pgtrickle.df_")}
    project.dbt("run-operation", "create_outside_stream_tables")
    cat = catalog(dbt_db)
    assert (
        cat["public.outside_totals"]["schedule"],
        cat["public.outside_totals"]["refresh_mode"],
    ) == ("5m", "DIFFERENTIAL")
    assert (cat["public.outside_top"]["schedule"], cat["public.outside_top"]["refresh_mode"]) == (
        None,
        "FULL",
    )

    # the adapter macro with upstream's argument: one committed drop, a missing name is a no-op
    dropped = project.dbt("run-operation", "drop_outside_top")
    assert "public.outside_top" not in catalog(dbt_db)
    assert rows_of(dbt_db, "select to_regclass('public.outside_top')") == [(None,)]
    assert "public.never_created: no such stream table, nothing to drop" in dropped.output

    # upstream: only the stream tables the project defines
    project.dbt("run-operation", "drop_all_stream_tables")
    assert set(catalog(dbt_db)) == {"public.outside_totals"} | monitoring

    # upstream: everything in pg_trickle's catalog, dbt's or not
    forced = project.dbt("run-operation", "drop_all_stream_tables_force")
    assert catalog(dbt_db) == {}
    assert "pg_trickle: dropped public.outside_totals (not managed by this project)" in (
        forced.output
    )
    assert f"drop_all_stream_tables_force: {1 + len(monitoring)} dropped" in forced.output
