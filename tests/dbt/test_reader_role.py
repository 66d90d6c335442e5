"""dbt's read-only paths as a role with the least grants of a reader on pg_trickle 0.108.3.

pg_trickle 0.96+ grants its predefined roles no SELECT on its catalog, but its read functions
read the catalog as the caller (docs/pg_trickle-contract.md section 11), so the least reader
is `pgtrickle_reader` plus SELECT on the tables those functions read, exactly the reader
grants of `vocabulary/grants.py`. The stream tables are created by the database's own role;
the plan, the generic test, the freshness check and the status operation then run as a second
LOGIN role holding those grants plus what dbt needs to reach the models (CONNECT, USAGE on
their schemas, SELECT on their tables). The first tests prove that role is refused every
catalog relation the grants leave out, so a macro reading one would fail here.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import replace

import psycopg
import pytest
from psycopg import sql

from airflow_provider_pgtrickle.testing.server import TestDatabase, TestServer
from airflow_provider_pgtrickle.testing.versions import DoubleVersion
from airflow_provider_pgtrickle.vocabulary import grants

from ._project import DbtProject

pytestmark = [pytest.mark.slow, pytest.mark.story]

MODELS = ("order_totals", "customer_orders", "top_orders")  # customer_orders reads order_totals
SCHEMA = "integration"
READER_GRANTS = grants.grants("0.108.3", [grants.Part.READER])
# Catalog relations a reader is not granted: reading one directly would fail as that role.
CATALOG = tuple(
    table
    for table in (
        "pgtrickle.pgt_stream_tables",
        "pgtrickle.pgt_refresh_history",
        "pgtrickle.pgt_dependencies",
        "pgtrickle.stream_tables_info",
        "pgtrickle.pg_stat_stream_tables",
        "pgtrickle.pgt_change_tracking",
        "pgtrickle.pgt_scheduler_jobs",
    )
    if not any(g.name == table for g in READER_GRANTS)
)


@pytest.fixture(scope="module")
def db(pgtrickle_server: TestServer) -> Iterator[TestDatabase]:
    database = pgtrickle_server.create_database()
    with database.admin_connect() as conn:
        # the role order_totals' `grants` names; creating roles is an administrator's job
        conn.execute(
            "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname ="
            " 'pgtrickle_it_reader') THEN CREATE ROLE pgtrickle_it_reader; END IF; END $$"
        )
        version = conn.execute(
            "select extversion from pg_extension where extname = 'pg_trickle'"
        ).fetchone()
    if version is None or version[0] != DoubleVersion.V0_108_3.value:
        pgtrickle_server.drop_database(database.dbname)
        pytest.skip("pgtrickle_reader exists from pg_trickle 0.96 on; this server runs 0.67.0")
    try:
        yield database
    finally:
        pgtrickle_server.drop_database(database.dbname)


@pytest.fixture(scope="module")
def owner(tmp_path_factory: pytest.TempPathFactory, db: TestDatabase) -> DbtProject:
    """The project as the database's role, which creates the stream tables."""
    project = DbtProject.create(tmp_path_factory.mktemp("dbt_reader"), db.dbt_env())
    project.dbt("deps")
    project.dbt("seed", "-s", "orders", "customers")
    project.dbt("run", "-s", *MODELS)
    return project


@pytest.fixture(scope="module")
def reader(owner: DbtProject, db: TestDatabase) -> Iterator[TestDatabase]:
    """A LOGIN role with the reader grants and read access to the models, nothing else."""
    role = f"pgt_dbt_reader_{uuid.uuid4().hex[:8]}"
    password = uuid.uuid4().hex
    ident = sql.Identifier(role)
    with db.admin_connect() as conn:
        conn.execute(
            sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(ident, sql.Literal(password))
        )
        for statement in grants.statements("0.108.3", [grants.Part.READER], role):
            conn.execute(statement.encode())
        conn.execute(
            sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(sql.Identifier(db.dbname), ident)
        )
        conn.execute(
            sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(sql.Identifier(SCHEMA), ident)
        )
        conn.execute(
            sql.SQL("GRANT SELECT ON ALL TABLES IN SCHEMA {} TO {}").format(
                sql.Identifier(SCHEMA), ident
            )
        )
    try:
        yield replace(db, user=role, password=password)
    finally:
        with db.admin_connect() as conn:
            conn.execute(sql.SQL("DROP OWNED BY {}").format(ident))
            conn.execute(sql.SQL("DROP ROLE {}").format(ident))


@pytest.fixture(scope="module")
def as_reader(owner: DbtProject, reader: TestDatabase) -> DbtProject:
    """The same project directory, connecting as the reader."""
    env = dict(owner.env)
    env.update(reader.dbt_env())
    return DbtProject(owner.path, env)


@pytest.mark.parametrize("table", CATALOG)
def test_the_reader_is_refused_the_catalog(reader: TestDatabase, table: str) -> None:
    with reader.connect() as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute(sql.SQL("select from {} limit 1").format(sql.SQL(table)))


def test_plan_as_the_reader_sees_every_model_unchanged(as_reader: DbtProject) -> None:
    plan = as_reader.dbt("run-operation", "pgtrickle_plan")
    for model in MODELS:
        assert f"pg_trickle: plan: {model} (" in plan.output
    assert plan.output.count("): no-op") == len(MODELS), plan.output
    assert "NEEDS RECREATION" not in plan.output


def test_plan_as_the_reader_sees_a_changed_setting(as_reader: DbtProject) -> None:
    """A setting the read functions show (the schedule) is still compared."""
    as_reader.edit("models/order_totals.sql", "schedule='1m'", "schedule='5m'")
    try:
        plan = as_reader.dbt("run-operation", "pgtrickle_plan")
    finally:
        as_reader.edit("models/order_totals.sql", "schedule='5m'", "schedule='1m'")
    assert "pg_trickle: plan: order_totals (integration.order_totals): alter (schedule)" in (
        plan.output
    )


def test_generic_test_as_the_reader(as_reader: DbtProject) -> None:
    result = as_reader.dbt(
        "test", "-s", *(f"test_name:matches_definition,{model}" for model in MODELS)
    )
    passed = {uid for uid, status in result.statuses("test.").items() if status == "pass"}
    assert {uid.split(".")[-2] for uid in passed} >= {
        f"matches_definition_{model}_" for model in MODELS
    }, result.output


def test_freshness_check_as_the_reader(as_reader: DbtProject) -> None:
    result = as_reader.dbt(
        "run-operation", "pgtrickle_check_freshness", "--args", "{warn_seconds: 3600}"
    )
    for model in ("order_totals", "customer_orders"):
        assert f"pg_trickle: freshness: {SCHEMA}.{model}: fresh" in result.output


def test_status_as_the_reader(as_reader: DbtProject) -> None:
    result = as_reader.dbt("run-operation", "pgtrickle_status")
    for model in MODELS:
        assert f"pg_trickle: {SCHEMA}.{model}: healthy" in result.output
    assert "NEEDS RECREATION" not in result.output
