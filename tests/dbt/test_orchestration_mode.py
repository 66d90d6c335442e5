"""A model's `orchestration_mode`: dbt deploys it, detects a change of it and applies it
through `set_orchestration_mode`, or reports it under `on_configuration_change='fail'`;
on 0.67.0 `EXTERNAL` fails the model naming the release that brings it, before anything is
created. One database and one copy of tests/dbt's integration project; the catalog is read on
a new connection.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from airflow_provider_pgtrickle.testing.server import TestDatabase, TestServer

from ._project import DbtProject

pytestmark = pytest.mark.slow

MODEL = "models/order_totals.sql"


@pytest.fixture(scope="module")
def dbt_db(pgtrickle_server: TestServer) -> Iterator[TestDatabase]:
    db = pgtrickle_server.create_database()
    try:
        yield db
    finally:
        pgtrickle_server.drop_database(db.dbname)


def rows_of(db: TestDatabase, query: str) -> list[tuple[Any, ...]]:
    with db.connect() as conn:
        return conn.execute(query).fetchall()


def _version(db: TestDatabase) -> str:
    return str(
        rows_of(db, "select extversion from pg_extension where extname = 'pg_trickle'")[0][0]
    )


def test_orchestration_mode_is_deployed_changed_and_reported(
    tmp_path_factory: pytest.TempPathFactory, dbt_db: TestDatabase
) -> None:
    project = DbtProject.create(tmp_path_factory.mktemp("dbt"), dbt_db.dbt_env())
    project.dbt("deps")
    project.dbt("seed", "--select", "customers", "orders")
    project.edit(MODEL, "schedule='1m',", "schedule='1m', orchestration_mode='external',")
    if _version(dbt_db) == "0.67.0":
        run = project.dbt("run", "--select", "order_totals", expect_ok=False)
        assert "orchestration_mode` 'EXTERNAL' needs pg_trickle 0.93.0" in run.output
        assert rows_of(dbt_db, "select count(*) from pgtrickle.pgt_stream_tables") == [(0,)]
        project.edit(MODEL, "orchestration_mode='external',", "orchestration_mode='MANAGED',")
        assert project.dbt("run", "--select", "order_totals").messages() == {
            "order_totals": "created"
        }
        project.edit(MODEL, "schedule='1m',", "schedule=none, target_freshness='manual',")
        run = project.dbt("run", "--select", "order_totals", expect_ok=False)
        assert "`target_freshness` needs pg_trickle 0.86.0" in run.output
        return

    def mode() -> str:
        return str(
            rows_of(
                dbt_db,
                "select orchestration_mode from pgtrickle.pgt_stream_tables"
                " where pgt_name = 'order_totals'",
            )[0][0]
        )

    assert project.dbt("run", "--select", "order_totals").messages() == {"order_totals": "created"}
    assert mode() == "EXTERNAL"
    assert project.dbt("run", "--select", "order_totals").messages() == {
        "order_totals": "unchanged"
    }
    project.edit(MODEL, "orchestration_mode='external',", "on_configuration_change='fail',")
    failed = project.dbt("run", "--select", "order_totals", expect_ok=False)
    assert "orchestration_mode" in failed.output
    assert mode() == "EXTERNAL"
    project.edit(MODEL, "on_configuration_change='fail',", "")
    assert project.dbt("run", "--select", "order_totals").messages() == {
        "order_totals": "altered (orchestration_mode)"
    }
    assert mode() == "MANAGED"
    project.edit(MODEL, "schedule='1m',", "schedule='5m', orchestration_mode='EXTERNAL',")
    assert project.dbt("run", "--select", "order_totals").messages() == {
        "order_totals": "altered (schedule, orchestration_mode)"
    }
    assert mode() == "EXTERNAL"

    def freshness() -> tuple[Any, ...]:
        return rows_of(
            dbt_db,
            "select schedule, target_freshness_mode from pgtrickle.pgt_stream_tables"
            " where pgt_name = 'order_totals'",
        )[0]

    # target_freshness instead of the schedule: 'manual' takes the table off the scheduler
    project.edit(MODEL, "schedule='5m',", "schedule=none, target_freshness='manual',")
    assert project.dbt("run", "--select", "order_totals").messages() == {
        "order_totals": "altered (target_freshness)"
    }
    assert freshness()[1] == "MANUAL"
    assert project.dbt("run", "--select", "order_totals").messages() == {
        "order_totals": "unchanged"
    }
    # a schedule next to a target is refused before anything is sent
    project.edit(MODEL, "schedule=none,", "schedule='10m',")
    refused = project.dbt("run", "--select", "order_totals", expect_ok=False)
    assert "a target_freshness or a schedule, not both" in refused.output
    assert freshness()[1] == "MANUAL"
    # removing the target sends the schedule, which clears it
    project.edit(MODEL, " target_freshness='manual',", "")
    assert project.dbt("run", "--select", "order_totals").messages() == {
        "order_totals": "altered (schedule)"
    }
    assert freshness() == ("10m", None)
