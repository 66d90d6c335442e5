"""A refresh batch with a typed failure, in process (the retry decision itself is proven through
real task runs in test_refresh_retries_e2e.py): the failed table's result carries its code, the
next table refreshes on the same worker connection, and the operator's error says whether a
retry can help. Data read on a separate connection."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from airflow_support import context

from airflow_provider_pgtrickle.exceptions import (
    PgTrickleRefreshError,
    PgTrickleRefreshPermanentError,
    StreamTableRefreshFailedError,
    StreamTableRefreshPermanentError,
)
from airflow_provider_pgtrickle.hooks.pgtrickle import PgTrickleHook
from airflow_provider_pgtrickle.operators.pgtrickle import PgTrickleRefreshOperator
from airflow_provider_pgtrickle.testing.server import TestDatabase

from .conftest import fetch
from .test_refresh_retries_e2e import _GATE


@pytest.fixture
def gated(admin_conn: psycopg.Connection[Any], orders: str, hook: PgTrickleHook) -> None:
    admin_conn.execute(_GATE)
    admin_conn.execute("GRANT EXECUTE ON FUNCTION public.fault_gate(text) TO PUBLIC")
    admin_conn.execute("GRANT SELECT ON public.faults TO PUBLIC")
    for name in ("broken", "lock", "fine"):
        admin_conn.execute(f"CREATE SEQUENCE public.calls_{name}")
        admin_conn.execute(f"GRANT ALL ON SEQUENCE public.calls_{name} TO PUBLIC")
        hook.create_stream_table(
            f"public.{name}_totals",
            f"SELECT id, amount FROM public.orders WHERE public.fault_gate('{name}')",
            refresh_mode="FULL",
        )
    admin_conn.execute(
        "INSERT INTO public.faults VALUES ('broken', '22012', 'division by zero'),"
        " ('lock', '55P03', 'canceling statement due to lock timeout')"
    )
    admin_conn.execute("INSERT INTO public.orders VALUES (4, 3, 1)")


@pytest.mark.usefixtures("pgtrickle_airflow_conn", "gated")
def test_a_typed_failure_in_a_batch(pgtrickle_db: TestDatabase, pgtrickle_version: str) -> None:
    op = PgTrickleRefreshOperator(
        task_id="refresh",
        stream_tables=["public.broken_totals", "public.lock_totals", "public.fine_totals"],
        max_parallel=1,  # one worker connection for all three, in this order
        emit_assets=False,
    )
    typed = pgtrickle_version != "0.67.0"
    expected = PgTrickleRefreshPermanentError if typed else PgTrickleRefreshError
    with pytest.raises(expected) as caught:
        op.execute(context())
    by_name = {r["stream_table"]: r for r in caught.value.results}
    assert by_name["public.fine_totals"]["action"] == "refreshed"
    assert fetch(pgtrickle_db, "SELECT count(*) FROM public.fine_totals") == [(4,)]
    if typed:
        assert (
            by_name["public.broken_totals"]["error_code"],
            by_name["public.broken_totals"]["retryable"],
        ) == ("PERMANENT", False)
        assert (
            by_name["public.lock_totals"]["error_code"],
            by_name["public.lock_totals"]["retryable"],
        ) == ("LOCK_TIMEOUT", True)
        assert "is permanent, so the task fails without retrying" in str(caught.value)
    else:
        assert {r["error_code"] for r in caught.value.results} == {None}


@pytest.mark.usefixtures("pgtrickle_airflow_conn", "gated")
def test_the_hook_raises_the_class(hook: PgTrickleHook, pgtrickle_version: str) -> None:
    if pgtrickle_version == "0.67.0":
        pytest.skip("pg_trickle 0.67.0 has no typed refresh errors")
    with pytest.raises(
        StreamTableRefreshPermanentError, match=r"failed with PERMANENT \(SQLSTATE 22012\)"
    ):
        hook.refresh_stream_table("public.broken_totals")
    with pytest.raises(StreamTableRefreshFailedError, match=r"failed with LOCK_TIMEOUT") as caught:
        hook.refresh_stream_table("public.lock_totals")
    assert not isinstance(caught.value, StreamTableRefreshPermanentError)
    assert (caught.value.error_code, caught.value.retryable) == ("LOCK_TIMEOUT", True)
    assert caught.value.hint.startswith("Wait for the competing transaction")
