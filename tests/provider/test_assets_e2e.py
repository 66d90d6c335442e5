"""A DAG scheduled on `stream_table_asset(conn, name)` runs after an operator touched the table.

The producer DAG runs with the test kit (`dag.test()`), which records its asset events in the
metadata database. The scheduler's own asset evaluation (`DagModel.dags_needing_dagruns`) and
run creation (`SchedulerJobRunner._create_dag_runs_asset_triggered`) then decide whether the
consumer DAGs get an asset-triggered run, which is executed like `dag.test()` runs a DAG. One
connection names its database, the other names none (libpq then uses the database named like
the login): before the asset URI had one rule, that consumer never ran.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from psycopg import sql

from airflow_provider_pgtrickle.testing.airflow import AirflowHome
from airflow_provider_pgtrickle.testing.server import TestDatabase, TestServer

pytestmark = [pytest.mark.slow, pytest.mark.requires_double]

DAG_FILE = Path(__file__).parent / "asset_dags" / "pgtrickle_e2e_assets.py"
PRODUCER = "pgtrickle_e2e_asset_producer"
CONSUMERS = {
    "pgt_with_db": "pgtrickle_e2e_asset_consumer_pgt_with_db",
    "pgt_no_db": "pgtrickle_e2e_asset_consumer_pgt_no_db",
}
RESULT = "@@ASSET_RUNS@@"

# Runs in the Airflow home: the scheduler's asset-triggered run creation for the consumer DAGs,
# then each created run is executed with `dag.test()`'s own task loop (pointed at that run).
_SCHEDULE_AND_RUN = r"""
import json, sys
from unittest import mock

from airflow.dag_processing.dagbag import DagBag
from airflow.jobs.job import Job
from airflow.jobs.scheduler_job_runner import SchedulerJobRunner
from airflow.models.dag import DagModel
from airflow.models.dagrun import DagRun
from airflow.utils.session import create_session
from airflow.utils.state import DagRunState
from sqlalchemy import select

dag_file, marker, wanted = sys.argv[1], sys.argv[2], set(sys.argv[3:])
runner = SchedulerJobRunner(job=Job())
with create_session() as session:
    query, triggered = DagModel.dags_needing_dagruns(session)
    due = [m for m in query.all() if m.dag_id in wanted and m.dag_id in triggered]
    runner._create_dag_runs_asset_triggered(dag_models=due, session=session)

bag = DagBag(dag_folder=dag_file)
result = {}
for dag_id in sorted(wanted):
    with create_session() as session:
        runs = session.scalars(select(DagRun).where(DagRun.dag_id == dag_id)).all()
        result[dag_id] = [{"run_type": str(r.run_type), "run_id": r.run_id} for r in runs]
        if not runs:
            continue
        run = runs[0]
        run.state = DagRunState.RUNNING
        session.commit()
        run_id = run.run_id

    def the_created_run(*, dag, session, **kwargs):
        run = session.scalars(
            select(DagRun).where(DagRun.dag_id == dag_id, DagRun.run_id == run_id)
        ).one()
        run.dag = dag
        return run

    with mock.patch("airflow.models.dagrun.get_or_create_dagrun", the_created_run):
        bag.dags[dag_id].test()
    with create_session() as session:
        run = session.scalars(
            select(DagRun).where(DagRun.dag_id == dag_id, DagRun.run_id == run_id)
        ).one()
        ti = run.get_task_instance("triggered_by", session=session)
        result[dag_id][0]["state"] = str(run.state)
        result[dag_id][0]["task_state"] = str(ti.state)
        result[dag_id][0]["consumed"] = sorted(e.asset.uri for e in run.consumed_asset_events)
        result[dag_id][0]["xcom"] = ti.xcom_pull(task_ids="triggered_by", session=session)
print(marker + json.dumps(result))
"""


@pytest.fixture
def databases(pgtrickle_server: TestServer) -> Iterator[tuple[TestDatabase, TestDatabase]]:
    """One database named on its connection, one named only by its login (the role's name)."""
    named = pgtrickle_server.create_database()
    by_login = pgtrickle_server.create_database()
    with pgtrickle_server.admin_connect() as conn:
        conn.execute(
            sql.SQL("CREATE ROLE {} LOGIN SUPERUSER").format(sql.Identifier(by_login.dbname))
        )
    try:
        for db in (named, by_login):
            with db.connect() as conn:
                conn.execute("CREATE TABLE public.orders (customer_id int, amount numeric)")
                conn.execute("INSERT INTO public.orders VALUES (1, 10), (2, 5)")
        yield named, by_login
    finally:
        pgtrickle_server.drop_database(named.dbname)
        pgtrickle_server.drop_database(by_login.dbname)
        with pgtrickle_server.admin_connect() as conn:
            conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(by_login.dbname)))


def test_consumer_runs_after_the_producer_with_and_without_a_database(
    databases: tuple[TestDatabase, TestDatabase], tmp_path: Path
) -> None:
    named, by_login = databases
    dags = tmp_path / "dags"
    dags.mkdir()
    dag_file = Path(shutil.copy(DAG_FILE, dags))
    env = {
        "AIRFLOW_CONN_PGT_WITH_DB": named.airflow_uri,
        # No path: no database. The login is the role named like `by_login`'s database.
        "AIRFLOW_CONN_PGT_NO_DB": f"postgres://{by_login.dbname}@{by_login.host}:{by_login.port}",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
    }
    home = AirflowHome(Path(os.environ["AIRFLOW_HOME"]))
    produced = home.run_dag(dag_file, PRODUCER, env=env, timeout=300)
    assert produced.succeeded, produced.output[-6000:]
    uris = {
        conn_id: f"postgres://127.0.0.1:{db.port}/{db.dbname}/public/order_totals"
        for conn_id, db in (("pgt_with_db", named), ("pgt_no_db", by_login))
    }
    # The work happened where the URI says: each database has its stream table.
    for db in (named, by_login):
        with db.connect() as conn:
            assert conn.execute("SELECT count(*) FROM public.order_totals").fetchone() == (2,)

    done = subprocess.run(
        [sys.executable, "-c", _SCHEDULE_AND_RUN, str(dag_file), RESULT, *CONSUMERS.values()],
        env=home.env(dag_file, env),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith(RESULT)]
    assert lines, f"exit {done.returncode}\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
    runs = json.loads(lines[-1][len(RESULT) :])
    for conn_id, dag_id in CONSUMERS.items():
        assert len(runs[dag_id]) == 1, f"{dag_id} got no asset-triggered run: {runs}"
        [run] = runs[dag_id]
        assert run["run_type"] == "asset_triggered", run
        assert run["consumed"] == [uris[conn_id]], run
        assert (run["state"], run["task_state"]) == ("success", "success"), done.stdout[-4000:]
        # The consumer's task saw the producer's event as what triggered it.
        assert run["xcom"] == [uris[conn_id]], run
    # The URIs name the server and database the work happened in.
    assert sorted(produced.asset_events) == sorted(uris.values())
