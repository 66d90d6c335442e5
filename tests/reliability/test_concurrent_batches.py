"""Two refresh batches over the same tables at once: both finish, nothing fails or is lost."""

from __future__ import annotations

import threading
from typing import Any

import psycopg
import pytest

from airflow_provider_pgtrickle.hooks.pgtrickle import PgTrickleHook
from airflow_provider_pgtrickle.operators.pgtrickle import PgTrickleRefreshOperator
from airflow_provider_pgtrickle.testing.server import TestDatabase

from .conftest import ORDERS_QUERY, context

TABLES = ["public.totals", "public.big", "public.ids"]


@pytest.mark.usefixtures("orders", "pgtrickle_airflow_conn")
def test_two_batches_over_the_same_tables(
    hook: PgTrickleHook, pgtrickle_conn: psycopg.Connection[Any], pgtrickle_db: TestDatabase
) -> None:
    hook.create_stream_table("public.totals", ORDERS_QUERY, refresh_mode="DIFFERENTIAL")
    hook.create_stream_table("public.big", "SELECT customer_id FROM public.totals WHERE total > 8")
    hook.create_stream_table("public.ids", "SELECT id FROM public.orders", refresh_mode="FULL")
    pgtrickle_conn.execute("INSERT INTO public.orders VALUES (4, 3, 100), (5, 2, 1)")
    outcomes: list[Any] = [None, None]
    start = threading.Barrier(2)

    def run(slot: int) -> None:
        op = PgTrickleRefreshOperator(task_id=f"r{slot}", stream_tables=TABLES, max_parallel=2)
        start.wait()
        try:
            outcomes[slot] = op.execute(context())
        except BaseException as error:
            outcomes[slot] = error

    workers = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    for outcome in outcomes:
        assert isinstance(outcome, list), outcome
        assert {r["stream_table"] for r in outcome} == set(TABLES)
        assert {r["action"] for r in outcome} <= {"refreshed", "skipped"}, outcome
    # Each table was refreshed by at least one of the batches, and the data is current.
    for table in TABLES:
        assert any(
            r["action"] == "refreshed" for o in outcomes for r in o if r["stream_table"] == table
        )
    rows = pgtrickle_conn.execute(
        "SELECT customer_id, total FROM public.totals ORDER BY 1"
    ).fetchall()
    assert [(c, float(t)) for c, t in rows] == [(1, 15.0), (2, 8.0), (3, 100.0)]
    assert pgtrickle_conn.execute("SELECT count(*) FROM public.ids").fetchone() == (5,)
    big = pgtrickle_conn.execute("SELECT customer_id FROM public.big ORDER BY 1").fetchall()
    assert big == [(1,), (3,)]
    status = pgtrickle_conn.execute(
        "SELECT DISTINCT status FROM pgtrickle.pgt_stream_tables"
    ).fetchall()
    assert status == [("ACTIVE",)]
