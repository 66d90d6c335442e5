"""`pgtrickle_operators_example` end to end, twice (every step must be safe to re-run)."""

from __future__ import annotations

from pathlib import Path

import pytest
from airflow.sdk import DagRunState
from airflow_support import run_dag

from airflow_provider_pgtrickle.testing.server import TestDatabase

EXPECTED_TOTALS = (
    "SELECT 'customer_' || mod(i, 7) AS customer, count(*), sum(mod(i, 50) + 0.99)"
    " FROM generate_series(1, 500) AS i GROUP BY 1"
)


@pytest.mark.slow
def test_operators_example_creates_refreshes_waits_and_reads(
    pgtrickle_db: TestDatabase, example_dags: Path
) -> None:
    dag_file = example_dags / "pgtrickle_operators_example.py"

    first = run_dag(dag_file, "pgtrickle_operators_example", env=pgtrickle_db.airflow_env())
    second = run_dag(dag_file, "pgtrickle_operators_example", env=pgtrickle_db.airflow_env())

    for result in (first, second):
        assert result.state == DagRunState.SUCCESS, result.output[-6000:]
        assert set(result.task_states.values()) == {"success"}
    assert first.xcoms["create_stream_table"]["action"] == "created"
    assert second.xcoms["create_stream_table"]["action"] == "unchanged"
    with pgtrickle_db.connect() as conn:
        status = conn.execute(
            "SELECT status, is_populated FROM pgtrickle.pgt_stream_tables"
            " WHERE pgt_schema = 'pgtrickle_example' AND pgt_name = 'revenue_by_customer'"
        ).fetchall()
        content = conn.execute(
            "SELECT customer, payments, revenue FROM pgtrickle_example.revenue_by_customer"
            " ORDER BY customer"
        ).fetchall()
        expected = conn.execute(EXPECTED_TOTALS + " ORDER BY 1").fetchall()
    assert status == [("ACTIVE", True)]
    assert content == expected
    top = second.xcoms["top_customers"]
    assert [row["customer"] for row in top] == [
        customer for customer, _, _ in sorted(expected, key=lambda r: r[2], reverse=True)[:3]
    ]
