"""The hook serializes its lifecycle calls: two tasks creating stream tables over one source at
once both succeed (pg_trickle 0.67.0 itself lets them collide: see
tests/conformance/test_concurrent_create.py and vocabulary/lifecycle.py)."""

from __future__ import annotations

import threading

from airflow_provider_pgtrickle.hooks.pgtrickle import PgTrickleHook
from airflow_provider_pgtrickle.testing.server import TestDatabase
from airflow_provider_pgtrickle.vocabulary.lifecycle import LOCK_SQL

from .conftest import ORDERS_QUERY, catalog


def test_create_waits_for_another_clients_lifecycle_transaction(
    hook: PgTrickleHook, orders: str, pgtrickle_db: TestDatabase
) -> None:
    errors: list[BaseException] = []

    def create(name: str) -> None:
        try:
            hook.create_stream_table(name, ORDERS_QUERY, schedule="1h")
        except BaseException as exc:  # inspected below
            errors.append(exc)

    with pgtrickle_db.connect(autocommit=False) as other_client:
        other_client.execute(LOCK_SQL)  # type: ignore[arg-type]
        other_client.execute(
            "SELECT pgtrickle.create_stream_table(name => 'public.first', "
            "query => %s, schedule => '1h')",
            [ORDERS_QUERY],
        )
        thread = threading.Thread(target=create, args=("public.second",))
        thread.start()
        # The hook queues behind the other client's lock instead of colliding inside pg_trickle.
        thread.join(timeout=1)
        assert thread.is_alive()
        other_client.commit()
    thread.join(timeout=30)
    assert not thread.is_alive()
    assert errors == []
    assert [row[:2] for row in catalog(pgtrickle_db)] == [
        ("public", "first"),
        ("public", "second"),
    ]


def test_two_hooks_creating_over_one_source_at_once_both_succeed(
    hook: PgTrickleHook, orders: str, pgtrickle_db: TestDatabase
) -> None:
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def create(name: str) -> None:
        try:
            barrier.wait(10)
            PgTrickleHook(postgres_conn_id=hook.postgres_conn_id).create_stream_table(
                name, ORDERS_QUERY, schedule="1h"
            )
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=create, args=(f"public.t{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    with pgtrickle_db.connect() as check:
        names = check.execute(
            "SELECT pgt_name FROM pgtrickle.pgt_stream_tables ORDER BY 1"
        ).fetchall()
        triggers = check.execute(
            "SELECT count(*) FROM pg_trigger WHERE tgrelid = 'public.orders'::regclass"
            " AND NOT tgisinternal"
        ).fetchone()
    assert names == [("t0",), ("t1",), ("t2",), ("t3",)]
    assert triggers is not None
    assert triggers[0] > 0
