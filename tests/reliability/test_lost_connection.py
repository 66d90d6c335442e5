"""A connection lost mid-call (pg_terminate_backend, restart, crash) is a clear project error.

The server's reason must survive (the rollback on the dead connection used to raise a second
error that hid it), the refresh batch must report what did finish, and a retry converges.
"""

from __future__ import annotations

import threading
from typing import Any

import psycopg
import pytest

from airflow_provider_pgtrickle.exceptions import (
    PgTrickleConnectionLostError,
    PgTrickleRefreshError,
)
from airflow_provider_pgtrickle.hooks.pgtrickle import PgTrickleHook
from airflow_provider_pgtrickle.operators.pgtrickle import PgTrickleRefreshOperator
from airflow_provider_pgtrickle.testing.server import TestDatabase

from .conftest import ORDERS_QUERY, context, snapshot, wait_for_lock_wait

TERMINATED = "terminating connection due to administrator command"


def _terminate_when_blocked(db: TestDatabase, pattern: str) -> threading.Thread:
    def run() -> None:
        pid = wait_for_lock_wait(db, pattern)
        with db.connect() as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", [pid])

    thread = threading.Thread(target=run)
    thread.start()
    return thread


@pytest.mark.usefixtures("orders")
def test_hook_names_operation_table_and_server_reason(
    hook: PgTrickleHook, pgtrickle_db: TestDatabase
) -> None:
    hook.create_stream_table("public.totals", ORDERS_QUERY, refresh_mode="FULL")
    before = snapshot(pgtrickle_db)
    with pgtrickle_db.connect(autocommit=False) as blocker:
        blocker.execute("LOCK TABLE public.orders IN ACCESS EXCLUSIVE MODE")
        killer = _terminate_when_blocked(pgtrickle_db, "refresh_stream_table")
        with pytest.raises(PgTrickleConnectionLostError) as caught:
            hook.refresh_stream_table("public.totals")
        killer.join()
        blocker.rollback()
    message = str(caught.value)
    assert message.startswith("Stream table `public.totals`: refresh_stream_table failed")
    assert TERMINATED in message
    assert "nothing of it was committed" in message
    assert message.endswith("retry the task when the server is back (retrying is safe).")
    assert "\n" not in message
    assert caught.value.stream_table == "public.totals"
    assert snapshot(pgtrickle_db) == before
    # The retry converges.
    assert hook.refresh_stream_table("public.totals").action.value == "refreshed"


def test_server_down_at_connect_is_a_connection_error(
    monkeypatch: pytest.MonkeyPatch, pgtrickle_db: TestDatabase
) -> None:
    # A port nothing listens on: the connect itself fails.
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv(
        "AIRFLOW_CONN_DOWN", f"postgres://postgres@127.0.0.1:{port}/{pgtrickle_db.dbname}"
    )
    hook = PgTrickleHook(postgres_conn_id="down")
    with pytest.raises(PgTrickleConnectionLostError) as caught:
        hook.drop_stream_table("public.gone", if_exists=True)
    message = str(caught.value)
    assert message.startswith("Stream table `public.gone`: drop_stream_table failed because")
    assert "Connection refused" in message or "connection" in message.lower()
    assert "\n" not in message


@pytest.mark.usefixtures("orders", "pgtrickle_airflow_conn")
def test_refresh_batch_reports_what_finished_and_a_retry_converges(
    hook: PgTrickleHook, pgtrickle_conn: psycopg.Connection[Any], pgtrickle_db: TestDatabase
) -> None:
    pgtrickle_conn.execute("CREATE TABLE public.other (id int PRIMARY KEY)")
    pgtrickle_conn.execute("INSERT INTO public.other VALUES (1)")
    hook.create_stream_table("public.a_blocked", ORDERS_QUERY, refresh_mode="FULL")
    hook.create_stream_table("public.b_free", "SELECT id FROM public.other", refresh_mode="FULL")
    op = PgTrickleRefreshOperator(
        task_id="r", stream_tables=["public.a_blocked", "public.b_free"], max_parallel=2
    )
    ctx = context()
    with pgtrickle_db.connect(autocommit=False) as blocker:
        blocker.execute("LOCK TABLE public.orders IN ACCESS EXCLUSIVE MODE")
        killer = _terminate_when_blocked(pgtrickle_db, "refresh_stream_table")
        with pytest.raises(PgTrickleRefreshError) as caught:
            op.execute(ctx)
        killer.join()
        blocker.rollback()
    by_table = {r["stream_table"]: r for r in caught.value.results}
    assert by_table["public.b_free"]["action"] == "refreshed"
    assert by_table["public.a_blocked"]["action"] == "failed"
    assert TERMINATED in by_table["public.a_blocked"]["message"]
    assert "refresh_stream_table" in by_table["public.a_blocked"]["message"]
    assert ctx["ti"].xcom["refresh_results"] == caught.value.results
    assert "Finished: `public.b_free`" in str(caught.value)
    # Airflow's retry runs the same batch again; it converges.
    again = op.execute(context())
    assert {r["stream_table"]: r["action"] for r in again} == {
        "public.a_blocked": "refreshed",
        "public.b_free": "refreshed",
    }
