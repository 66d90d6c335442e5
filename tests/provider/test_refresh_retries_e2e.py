"""Refresh failures decide Airflow's retries, proven through real task runs (`dag.test()`).

Each stream table reads `public.fault_gate(<class>)`, which raises the class's SQLSTATE on its
first call only: the counter is a sequence, which a rolled-back refresh does not roll back. A
task that Airflow retries therefore succeeds on its second try (two calls), and a task that
fails without retrying made exactly one call. Which of the two happened is read from the
sequence, on a separate connection, after the run.

On servers with typed refresh errors (0.108.3) the permanent class fails at once and the others
are retried; on 0.67.0 every failure is retried, as before (docs/operators.md, "Retries").
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg
import pytest
from airflow_support import run_dag

from airflow_provider_pgtrickle.hooks.pgtrickle import PgTrickleHook
from airflow_provider_pgtrickle.testing.server import TestDatabase

from .conftest import fetch

DAGS = Path(__file__).parent / "dags"
pytestmark = pytest.mark.slow

# class -> (SQLSTATE, message, the code the provider reports)
FAULTS = {
    "lock_timeout": ("55P03", "canceling statement due to lock timeout", "LOCK_TIMEOUT"),
    "deadlock": ("40P01", "deadlock detected", "DEADLOCK"),
    "serialization": ("40001", "could not serialize access", "SERIALIZATION"),
    "out_of_memory": ("53200", "out of memory", "OUT_OF_MEMORY"),
    "cancelled": ("57014", "canceling statement due to user request", "CANCELLED"),
    "statement_timeout": (
        "57014",
        "canceling statement due to statement timeout",
        "STATEMENT_TIMEOUT",
    ),
    "permanent": ("22012", "division by zero", "PERMANENT"),
}


# STABLE so pg_trickle's volatile-function policy admits it; the sequence is what counts.
_GATE = """
CREATE TABLE public.faults (name text PRIMARY KEY, sqlstate text NOT NULL, message text NOT NULL);
CREATE FUNCTION public.fault_gate(p_name text) RETURNS boolean
LANGUAGE plpgsql STABLE AS $$
DECLARE
    f record;
BEGIN
    SELECT * INTO f FROM public.faults WHERE name = p_name;
    IF FOUND AND nextval(format('public.%I', 'calls_' || p_name)::regclass) = 1 THEN
        RAISE EXCEPTION USING ERRCODE = f.sqlstate, MESSAGE = f.message;
    END IF;
    RETURN true;
END
$$;
"""


def _calls(db: TestDatabase, name: str) -> int:
    (row,) = fetch(
        db, f"SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM public.calls_{name}"
    )
    return int(row[0])


@pytest.fixture
def faulty_tables(admin_conn: psycopg.Connection[Any], orders: str, hook: PgTrickleHook) -> None:
    """One stream table per class, created healthy; then each one's first refresh fails."""
    admin_conn.execute(_GATE)
    admin_conn.execute("GRANT ALL ON ALL TABLES IN SCHEMA public TO PUBLIC")
    admin_conn.execute("GRANT EXECUTE ON FUNCTION public.fault_gate(text) TO PUBLIC")
    for name in FAULTS:
        admin_conn.execute(f"CREATE SEQUENCE public.calls_{name}")
        admin_conn.execute(f"GRANT ALL ON SEQUENCE public.calls_{name} TO PUBLIC")
        hook.create_stream_table(
            f"public.{name}_totals",
            f"SELECT id, amount FROM public.orders WHERE public.fault_gate('{name}')",
            refresh_mode="FULL",
        )
    for name, (sqlstate, message, _) in FAULTS.items():
        admin_conn.execute(
            "INSERT INTO public.faults VALUES (%s, %s, %s)", [name, sqlstate, message]
        )


def test_retryable_failures_are_retried_and_permanent_ones_fail_at_once(
    pgtrickle_db: TestDatabase,
    pgtrickle_airflow_conn: str,
    pgtrickle_version: str,
    faulty_tables: None,
) -> None:
    result = run_dag(
        DAGS / "pgtrickle_e2e_refresh_retries.py",
        "pgtrickle_e2e_refresh_retries",
        env=pgtrickle_db.airflow_env(),
    )
    typed = pgtrickle_version != "0.67.0"
    for name, (sqlstate, _, code) in FAULTS.items():
        task = f"refresh_{name}"
        if code == "PERMANENT" and typed:
            # AirflowFailException: one try, no retry.
            assert result.task_states[task] == "failed", result.output[-6000:]
            assert _calls(pgtrickle_db, name) == 1
        else:
            # A plain AirflowException: the retry refreshed the table.
            assert result.task_states[task] == "success", (task, result.output[-6000:])
            assert _calls(pgtrickle_db, name) >= 2
        if typed:
            assert f"refresh_stream_table failed with {code} (SQLSTATE {sqlstate})" in (
                result.output
            )
    if typed:
        # The hint of the server's error_catalog() (the double's words) travels in the message.
        assert "Hint: Wait for the competing transaction to finish" in result.output
        assert "Hint: Read the stream table's error detail and fix its cause" in result.output
        assert "fails without retrying" in result.output
        assert fetch(pgtrickle_db, "SELECT count(*) FROM public.permanent_totals") == [(3,)]
    else:
        assert "refresh_stream_table failed with" not in result.output
