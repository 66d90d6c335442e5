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


def _hold_refresh_lock(db: TestDatabase, name: str, seconds: float, held: threading.Event) -> None:
    """Hold pg_trickle's per-table refresh lock (the transaction advisory lock on pgt_id, as
    a running refresh does) for ``seconds`` in another session."""
    with db.connect() as conn, conn.transaction():
        conn.execute(
            "SELECT pg_advisory_xact_lock(pgt_id) FROM pgtrickle.pgt_stream_tables"
            " WHERE pgt_schema || '.' || pgt_name = %s",
            [name],
        )
        held.set()
        threading.Event().wait(seconds)


@pytest.mark.usefixtures("orders", "pgtrickle_airflow_conn")
@pytest.mark.parametrize(("held_for", "action"), [(0.1, "refreshed"), (5.0, "skipped")])
def test_a_table_another_refresh_holds_briefly_is_tried_again(
    hook: PgTrickleHook,
    pgtrickle_conn: psycopg.Connection[Any],
    pgtrickle_db: TestDatabase,
    held_for: float,
    action: str,
) -> None:
    """A refresh skipped because another one held the table is retried after it ends; one
    still running after the retries is reported skipped (nothing waits for it)."""
    hook.create_stream_table("public.totals", ORDERS_QUERY)
    pgtrickle_conn.execute("INSERT INTO public.orders VALUES (4, 3, 100)")
    held = threading.Event()
    holder = threading.Thread(
        target=_hold_refresh_lock, args=(pgtrickle_db, "public.totals", held_for, held)
    )
    holder.start()
    assert held.wait(10)
    op = PgTrickleRefreshOperator(task_id="r", stream_tables=["public.totals"])
    try:
        [result] = op.execute(context())
    finally:
        holder.join()
    assert result["action"] == action, result
    with pgtrickle_db.connect() as conn:
        rows = conn.execute("SELECT count(*) FROM public.totals WHERE total = 100").fetchone()
    assert rows == ((1,) if action == "refreshed" else (0,))
