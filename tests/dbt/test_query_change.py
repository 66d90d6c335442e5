"""A model's query change that pg_trickle cannot migrate in place is a drop and create.

pg_trickle 0.67.0 changes a query in place by migrating the storage table (a new column goes
behind its own `__pgt_count`) and then fills it by position, so an aggregate model gaining a
column got the counts in the new column (airflow_provider_pgtrickle/vocabulary/lifecycle.py,
IN_PLACE_QUERY_SQL). The materialization drops and creates such a table instead, with its
dependents reported, and keeps the in-place path for changes that fit. One database and one
copy of tests/dbt's integration project; data read on a new connection.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from airflow_provider_pgtrickle.testing.server import TestDatabase, TestServer

from ._project import DbtProject

pytestmark = pytest.mark.slow

SCHEMA = "integration"


@pytest.fixture(scope="module")
def dbt_db(pgtrickle_server: TestServer) -> Iterator[TestDatabase]:
    with pgtrickle_server.fresh_database() as db:
        yield db


def rows_of(db: TestDatabase, query: str) -> list[tuple[Any, ...]]:
    # as the superuser: pg_trickle 0.96+ grants no other role its catalog
    with db.admin_connect() as conn:
        return conn.execute(query).fetchall()


def pgt_ids(db: TestDatabase) -> dict[str, int]:
    return dict(rows_of(db, "select pgt_name, pgt_id from pgtrickle.pgt_stream_tables"))


def test_added_aggregate_column_recreates_and_fills_the_right_columns(
    tmp_path_factory: pytest.TempPathFactory, dbt_db: TestDatabase
) -> None:
    project = DbtProject.create(tmp_path_factory.mktemp("dbt"), dbt_db.dbt_env())
    project.dbt("deps")
    project.dbt("seed", "--select", "customers", "orders")
    project.dbt("run", "--select", "order_totals", "customer_orders")
    before = pgt_ids(dbt_db)

    # a change that fits: a column left out of a leaf is migrated in place (same pgt_id)
    project.edit("models/customer_orders.sql", ", t.total_amount", "")
    fits = project.dbt("run", "--select", "customer_orders")
    assert fits.messages() == {"customer_orders": "query replaced in place"}
    assert pgt_ids(dbt_db)["customer_orders"] == before["customer_orders"]

    project.edit(
        "models/order_totals.sql",
        "sum(amount) as total_amount",
        "sum(amount) as total_amount, max(amount) as max_amount",
    )
    run = project.dbt("run", "--select", "order_totals")

    assert run.messages() == {
        "order_totals": "recreated (query changed; its columns cannot be migrated in place)"
    }
    # the dependent dropped with cascade is created again in the same run, with its own config
    after = pgt_ids(dbt_db)
    assert after.keys() == {"order_totals", "customer_orders"}
    assert after["customer_orders"] != before["customer_orders"]
    assert rows_of(
        dbt_db,
        f"select customer_id, order_count, total_amount, max_amount from {SCHEMA}.order_totals"
        " order by 1",
    ) == rows_of(
        dbt_db,
        "select customer_id, count(*), sum(amount), max(amount)"
        f" from {SCHEMA}.orders group by 1 order by 1",
    )
    rebuilt = project.dbt("run", "--select", "customer_orders")
    assert rebuilt.messages() == {"customer_orders": "unchanged"}


def test_query_changes_are_classified_by_explain_alter_before_any_change(
    tmp_path_factory: pytest.TempPathFactory, dbt_db: TestDatabase, pgtrickle_version: str
) -> None:
    """Where pg_trickle has explain_alter (0.91.0+) the plan asks it how a new query would be
    taken: `pgtrickle_plan` prints the class, on_configuration_change='fail' names it, and a
    query pg_trickle rejects fails the run with the catalog untouched. 0.67.0: as before."""
    project = DbtProject.create(tmp_path_factory.mktemp("dbt"), dbt_db.dbt_env())
    project.dbt("deps")
    project.dbt("seed", "--select", "customers", "orders")
    project.dbt("run", "--select", "order_totals")
    query_of = (
        "select defining_query from pgtrickle.pgt_stream_tables where pgt_name = 'order_totals'"
    )
    before = rows_of(dbt_db, query_of)
    typed = pgtrickle_version != "0.67.0"

    project.edit(
        "models/order_totals.sql",
        "schedule='1m',",
        "schedule='1m', on_configuration_change='fail',",
    )
    project.edit(
        "models/order_totals.sql", "group by customer_id", "where amount > 0 group by customer_id"
    )
    plan = project.dbt("run-operation", "pgtrickle_plan")
    failed = project.dbt("run", "--select", "order_totals", expect_ok=False)
    if typed:
        assert "query change: rebuildable" in plan.output
        assert "(query change classified `rebuildable` by pg_trickle)" in failed.output
    else:
        assert "query change:" not in plan.output
        assert "classified" not in failed.output
    assert "on_configuration_change is `fail`" in failed.output
    assert rows_of(dbt_db, query_of) == before

    project.edit("models/order_totals.sql", " on_configuration_change='fail',", "")
    project.edit("models/order_totals.sql", "sum(amount)", "sum(no_such_column)")
    rejected = project.dbt("run", "--select", "order_totals", expect_ok=False)
    if typed:
        assert "pg_trickle classifies the new query as `rejected`" in rejected.output
        assert "nothing was changed" in rejected.output
    assert rows_of(dbt_db, query_of) == before


def test_a_model_paused_by_status_is_paused_not_failed(
    tmp_path_factory: pytest.TempPathFactory, dbt_db: TestDatabase, pgtrickle_version: str
) -> None:
    """status='SUSPENDED' on an ACTIVE table goes through pause_stream_table where it exists
    (0.79.0+), so pgtrickle_status (the health rules) reports it paused, not failed."""
    project = DbtProject.create(tmp_path_factory.mktemp("dbt"), dbt_db.dbt_env())
    project.dbt("deps")
    project.dbt("seed", "--select", "customers", "orders")
    project.dbt("run", "--select", "order_totals")
    project.edit("models/order_totals.sql", "schedule='1m',", "schedule='1m', status='SUSPENDED',")
    run = project.dbt("run", "--select", "order_totals")
    assert run.messages() == {"order_totals": "altered (status)"}
    if pgtrickle_version == "0.67.0":
        mark = "select status from pgtrickle.pgt_stream_tables where pgt_name = 'order_totals'"
        assert rows_of(dbt_db, mark) == [("SUSPENDED",)]
        verdict = "order_totals: failed: "
    else:
        mark = (
            "select status, needs_reinit, refresh_reason from pgtrickle.pgt_stream_tables"
            " where pgt_name = 'order_totals'"
        )
        assert rows_of(dbt_db, mark) == [("SUSPENDED", True, "SCHEMA_CHANGED")]
        verdict = "order_totals: paused: `integration.order_totals` is paused"
    status = project.dbt("run-operation", "pgtrickle_status")
    assert verdict in status.output
