"""Moving a dbt project from pg_trickle 0.67 to 0.108 (docs/upgrading.md), on the double.

The stream tables are created by dbt on pg_trickle 0.67.0, then the extension is updated in
place (`ALTER EXTENSION pg_trickle UPDATE TO '0.108.3'`, the double's update script), which,
as upstream's 0.87.16/0.87.17 update scripts do, leaves their storage in the old row-identity
shape (`__pgt_row_id` not BYTEA) and their catalog rows unclassified (row_identity_version
NULL). `pgtrickle_status` must name them, and `dbt run --full-refresh -s <parent>` must create
the parent and the stream table reading it again in the new shape. The server's state is read
on a separate superuser connection.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from psycopg import sql

from airflow_provider_pgtrickle.testing.server import (
    DOUBLE_HELPER_EXTENSION,
    TestDatabase,
    TestServer,
)
from airflow_provider_pgtrickle.testing.versions import DoubleVersion
from airflow_provider_pgtrickle.vocabulary import grants

from ._project import DbtProject

pytestmark = [pytest.mark.slow, pytest.mark.requires_double, pytest.mark.story]

SCHEMA = "integration"
MODELS = ("order_totals", "customer_orders")  # customer_orders reads order_totals
OLD, NEW = DoubleVersion.V0_67_0.value, DoubleVersion.V0_108_3.value


def set_version(db: TestDatabase, statement: str, version: str) -> None:
    """Install or update pg_trickle (and the double's helpers) as the superuser, then give the
    project's role the grants docs/roles-and-grants.md lists for `version`."""
    with db.admin_connect() as conn:
        for extension in ("pg_trickle", DOUBLE_HELPER_EXTENSION):
            conn.execute(sql.SQL(statement).format(sql.Identifier(extension), sql.Literal(version)))
        if db.admin_user is not None:  # PGTRICKLE_TEST_ROLE=least
            for grant in grants.statements(version, tuple(grants.Part), db.user):
                conn.execute(grant.encode())
            # the double's own bookkeeping, as the test kit grants it (testing/_least_role.py)
            conn.execute(
                sql.SQL("GRANT SELECT, INSERT, UPDATE, DELETE ON {} TO {}").format(
                    sql.Identifier("pgtrickle_changes", "pgt_pending"), sql.Identifier(db.user)
                )
            )


@pytest.fixture(scope="module")
def db(pgtrickle_server: TestServer) -> Iterator[TestDatabase]:
    database = pgtrickle_server.create_database()
    with database.admin_connect() as conn:
        conn.execute(sql.SQL("DROP EXTENSION {}").format(sql.Identifier(DOUBLE_HELPER_EXTENSION)))
        conn.execute("DROP EXTENSION pg_trickle CASCADE")
        conn.execute(
            "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname ="
            " 'pgtrickle_it_reader') THEN CREATE ROLE pgtrickle_it_reader; END IF; END $$"
        )
    set_version(database, "CREATE EXTENSION {} VERSION {}", OLD)
    try:
        yield database
    finally:
        pgtrickle_server.drop_database(database.dbname)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory, db: TestDatabase) -> DbtProject:
    proj = DbtProject.create(tmp_path_factory.mktemp("dbt_upgrade"), db.dbt_env())
    proj.dbt("deps")
    proj.dbt("seed", "-s", "orders", "customers")
    assert proj.dbt("run", "-s", *MODELS).messages() == {m: "created" for m in MODELS}
    return proj


def shapes(db: TestDatabase) -> dict[str, dict[str, Any]]:
    """`schema.name` -> pgt_id, row_identity_version (None on 0.67.0) and the row id's type."""
    with db.admin_connect() as conn:
        has_version = conn.execute(
            "select exists (select from pg_attribute where attrelid ="
            " 'pgtrickle.pgt_stream_tables'::regclass and attname = 'row_identity_version')"
        ).fetchone()
        version = "s.row_identity_version" if has_version and has_version[0] else "null"
        found = conn.execute(
            f"select s.pgt_schema || '.' || s.pgt_name, s.pgt_id, {version},"
            " format_type(a.atttypid, a.atttypmod), a.attnotnull"
            " from pgtrickle.pgt_stream_tables s join pg_attribute a"
            " on a.attrelid = s.pgt_relid and a.attname = '__pgt_row_id' order by 1"
        ).fetchall()
    return {
        name: {"pgt_id": pgt_id, "version": ver, "row_id": f"{typ}{' not null' * notnull}"}
        for name, pgt_id, ver, typ, notnull in found
    }


def test_status_on_0_67_names_nothing_to_recreate(project: DbtProject) -> None:
    result = project.dbt("run-operation", "pgtrickle_status")
    assert "pg_trickle: version 0.67.0" in result.output
    assert "NEEDS RECREATION" not in result.output


def test_the_update_leaves_the_tables_in_the_old_shape(
    project: DbtProject, db: TestDatabase
) -> None:
    before = shapes(db)
    set_version(db, "ALTER EXTENSION {} UPDATE TO {}", NEW)
    after = shapes(db)
    assert set(after) == {f"{SCHEMA}.{m}" for m in MODELS}
    for name, shape in after.items():
        assert shape["pgt_id"] == before[name]["pgt_id"]
        assert shape["version"] is None  # unclassified, as upstream's update leaves it
        assert shape["row_id"] == before[name]["row_id"] == "bigint"


def test_status_names_the_tables_to_recreate(project: DbtProject) -> None:
    result = project.dbt("run-operation", "pgtrickle_status")
    assert f"pg_trickle: version {NEW}" in result.output
    for model in MODELS:
        assert (
            f"pg_trickle: {SCHEMA}.{model}: NEEDS RECREATION: created before pg_trickle"
            f" 0.87.16's row identity; run `dbt run --full-refresh -s {model}`"
        ) in result.output
    assert "2 stream table(s) need recreation" in result.output


def test_a_plain_run_warns_and_the_plan_says_how(project: DbtProject) -> None:
    run = project.dbt("run", "-s", "order_totals")
    assert run.messages() == {"order_totals": "unchanged"}
    assert (
        "stream table `integration.order_totals` was created before pg_trickle 0.87.16's row"
        " identity" in run.output
    )
    plan = project.dbt("run-operation", "pgtrickle_plan", "--args", "{full_refresh: true}")
    assert (
        "pg_trickle: plan: order_totals (integration.order_totals): recreate (drop + create)"
        " and drop + create again dependents integration.customer_orders"
    ) in plan.output


def test_full_refresh_recreates_the_table_and_its_dependents(
    project: DbtProject, db: TestDatabase
) -> None:
    before = shapes(db)
    run = project.dbt("run", "--full-refresh", "-s", "order_totals")
    assert run.messages() == {
        "order_totals": "recreated (full refresh; created before pg_trickle 0.87.16's row identity)"
    }
    after = shapes(db)
    assert set(after) == set(before)
    for name, shape in after.items():
        assert shape["pgt_id"] != before[name]["pgt_id"], name  # created again
        assert shape["row_id"] == "bytea not null", name
        assert shape["version"] is not None, name
    with db.admin_connect() as conn:
        differing = conn.execute(
            f"select count(*) from ((select customer_id, order_count from {SCHEMA}.customer_orders"
            f" except all select customer_id, count(*) from {SCHEMA}.orders group by 1)"
            f" union all (select customer_id, count(*) from {SCHEMA}.orders group by 1"
            f" except all select customer_id, order_count from {SCHEMA}.customer_orders)) d"
        ).fetchone()
    assert differing == (0,)
    status = project.dbt("run-operation", "pgtrickle_status")
    assert "NEEDS RECREATION" not in status.output
