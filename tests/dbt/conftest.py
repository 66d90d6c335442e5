"""Fixtures for the dbt modules that deploy one project per module and start every test from
that deployment (`_project.Deployed`).

Such a module defines the fixtures `project` and `dbt_db` and a function `state(db)`: what a
test may change and the next one would notice, as ``(catalog, seeds)``. It marks itself with
``pytest.mark.usefixtures("baseline")``.
"""

from __future__ import annotations

import pytest

from airflow_provider_pgtrickle.testing.server import TestDatabase

from ._project import DbtProject, Deployed


@pytest.fixture(scope="module")
def deployed(request: pytest.FixtureRequest, project: DbtProject, dbt_db: TestDatabase) -> Deployed:
    """The module's project, deployed once (deps, seed, run)."""
    return Deployed.first(project, dbt_db, request.module.state)


@pytest.fixture
def baseline(deployed: Deployed, project: DbtProject, dbt_db: TestDatabase) -> None:
    """Start the test from the deployed project: its files put back and, when an earlier test
    left the catalog or the seeds changed, the project deployed again."""
    deployed.restore(project, dbt_db)
