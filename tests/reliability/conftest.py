"""Fixtures shared by the reliability suite: a hook, a source table, a canary, a snapshot."""

from __future__ import annotations

import threading
from typing import Any

from airflow_support import context
from provider.conftest import ORDERS_QUERY, hook, orders

from airflow_provider_pgtrickle.testing.server import TestDatabase

# The hook and source-table fixtures are the provider suite's (one definition).
__all__ = ["ORDERS_QUERY", "context", "hook", "orders"]


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
