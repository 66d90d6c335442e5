"""Fixtures shared by the reliability suite: a hook, a source table, a canary, a snapshot."""

from __future__ import annotations

import threading
from typing import Any

import psycopg
import pytest

from airflow_provider_pgtrickle.hooks.pgtrickle import PgTrickleHook
from airflow_provider_pgtrickle.testing.server import TestDatabase

ORDERS_QUERY = (
    "SELECT customer_id, sum(amount) AS total, count(*) AS n FROM public.orders "
    "GROUP BY customer_id"
)


@pytest.fixture
def hook(pgtrickle_airflow_conn: str) -> PgTrickleHook:
    return PgTrickleHook(postgres_conn_id=pgtrickle_airflow_conn)


@pytest.fixture
def orders(pgtrickle_conn: psycopg.Connection[Any]) -> str:
    """`public.orders` (three rows) and `public.canary` (one row nobody may touch)."""
    pgtrickle_conn.execute(
        "CREATE TABLE public.orders (id int PRIMARY KEY, customer_id int NOT NULL,"
        " amount numeric NOT NULL)"
    )
    pgtrickle_conn.execute("INSERT INTO public.orders VALUES (1, 1, 10), (2, 1, 5), (3, 2, 7)")
    pgtrickle_conn.execute("CREATE TABLE public.canary (x int)")
    pgtrickle_conn.execute("INSERT INTO public.canary VALUES (42)")
    return "public.orders"


def snapshot(db: TestDatabase) -> dict[str, Any]:
    """Committed state seen from a separate connection: catalog, relations, canary."""
    with db.connect() as conn:
        return {
            "catalog": conn.execute(
                "SELECT pgt_schema, pgt_name, status, schedule, refresh_mode, is_populated,"
                " defining_query FROM pgtrickle.pgt_stream_tables ORDER BY 1, 2"
            ).fetchall(),
            "relations": conn.execute(
                "SELECT n.nspname, c.relname, c.relkind FROM pg_class c"
                " JOIN pg_namespace n ON n.oid = c.relnamespace"
                " WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')"
                # Sessions create their temporary schemas on first use; they hold nothing.
                " AND n.nspname NOT LIKE 'pg\\_%temp\\_%'"
                " ORDER BY 1, 2"
            ).fetchall(),
            "schemas": conn.execute(
                "SELECT nspname FROM pg_namespace WHERE nspname NOT LIKE 'pg\\_%temp\\_%'"
                " ORDER BY 1"
            ).fetchall(),
            "canary": conn.execute("SELECT x FROM public.canary").fetchall(),
        }


class FakeTaskInstance:
    """Records `xcom_push` calls (the only part of the task instance the operators use)."""

    def __init__(self) -> None:
        self.xcom: dict[str, Any] = {}

    def xcom_push(self, key: str, value: Any) -> None:
        self.xcom[key] = value


class OutletEvents(dict):  # type: ignore[type-arg]
    def __missing__(self, key: Any) -> Any:
        recorder = _Recorder()
        self[key] = recorder
        return recorder


class _Recorder:
    def __init__(self) -> None:
        self.assets: list[Any] = []

    def add(self, asset: Any, extra: Any = None) -> None:
        self.assets.append(asset)


def context() -> dict[str, Any]:
    return {"outlet_events": OutletEvents(), "ti": FakeTaskInstance()}


def wait_for_lock_wait(db: TestDatabase, pattern: str, timeout: float = 30.0) -> int:
    """Pid of a backend whose query matches ``pattern`` and waits on a lock."""
    with db.connect() as watcher:
        for _ in range(int(timeout / 0.05)):
            row = watcher.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
                " AND wait_event_type = 'Lock' AND query LIKE %s LIMIT 1",
                [f"%{pattern}%"],
            ).fetchone()
            if row:
                return int(row[0])
            threading.Event().wait(0.05)
    raise AssertionError(f"no backend running {pattern!r} waited for a lock")
