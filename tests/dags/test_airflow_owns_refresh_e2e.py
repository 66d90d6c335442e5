"""`pgtrickle_airflow_owns_refresh_example` end to end, twice (every step must be safe to
re-run): dbt deploys the jaffle_stream models as EXTERNAL, the refresh task refreshes the marts
with their upstream closure through one strict graph refresh after each load, the health
sensor gates the report. Read from a separate connection: the catalog's orchestration mode,
the graph refresh history and the data. On 0.67.0 the deploy fails naming pg_trickle 0.93.0.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from airflow.sdk import DagRunState
from airflow_support import run_dag

from airflow_provider_pgtrickle.testing.server import TestDatabase

DAG_ID = "pgtrickle_airflow_owns_refresh_example"


@pytest.mark.slow
def test_airflow_owns_refresh_example(
    pgtrickle_db: TestDatabase, pgtrickle_version: str, example_dags: Path
) -> None:
    dag_file = example_dags / f"{DAG_ID}.py"
    first = run_dag(dag_file, DAG_ID, env=pgtrickle_db.airflow_env())
    if pgtrickle_version == "0.67.0":
        assert first.state == DagRunState.FAILED
        assert "needs pg_trickle 0.93.0" in first.output
        assert first.task_states["refresh_in_graph_order"] != "success"
        return
    second = run_dag(dag_file, DAG_ID, env=pgtrickle_db.airflow_env())
    for result in (first, second):
        assert result.state == DagRunState.SUCCESS, result.output[-6000:]
        assert set(result.task_states.values()) == {"success"}
    with pgtrickle_db.connect() as conn:
        modes = conn.execute(
            "SELECT DISTINCT orchestration_mode FROM pgtrickle.pgt_stream_tables"
            " WHERE pgt_schema LIKE 'jaffle_ext%'"
        ).fetchall()
        graph_runs = conn.execute(
            "SELECT count(DISTINCT h.start_time) FROM pgtrickle.pgt_refresh_history h"
            " JOIN pgtrickle.pgt_stream_tables s USING (pgt_id)"
            " WHERE h.initiated_by = 'EXTERNAL_GRAPH' AND s.pgt_name = 'stg_orders'"
        ).fetchone()
        orders = conn.execute(
            "SELECT (SELECT count(*) FROM jaffle_ext_staging.stg_orders),"
            " (SELECT count(*) FROM jaffle_raw.orders)"
        ).fetchone()
        other_refreshes = conn.execute(
            "SELECT count(*) FROM pgtrickle.pgt_refresh_history h"
            " JOIN pgtrickle.pgt_stream_tables s USING (pgt_id)"
            " WHERE s.pgt_schema LIKE 'jaffle_ext%' AND h.initiated_by IN ('SCHEDULER', 'MANUAL')"
        ).fetchone()
    assert modes == [("EXTERNAL",)]
    # The second run loaded a batch after the tables existed: only the strict graph refresh
    # brought it in (pg_trickle's scheduler and the ordinary refresh never touched them).
    assert graph_runs == (2,)
    assert other_refreshes == (0,)
    assert orders is not None
    assert orders[0] == orders[1] == 120
    messages = [row["message"] for row in second.xcoms["refresh_in_graph_order"]]
    assert messages
    assert all(m.startswith("strict graph refresh ") for m in messages)
    assert any(m.endswith("COMPLETED") for m in messages)
    assert second.xcoms["report"]["segments"] > 0
