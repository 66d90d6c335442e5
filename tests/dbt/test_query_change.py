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
    db = pgtrickle_server.create_database()
    try:
        yield db
    finally:
        pgtrickle_server.drop_database(db.dbname)


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
