"""Cost of many deferred health sensors waiting in one triggerer, and push latency.

Run: python bench/bench_sensors.py [--triggers 1000] [--rounds 20]

Starts the throwaway PostgreSQL 18 test server, then drives `PgTrickleHealthTrigger`s through
Airflow's own `SharedStreamManager` exactly as the triggerer's `run_trigger` does (subscribe,
`filter_shared_stream`, unsubscribe). Measures, from a separate connection / the server log:

1. server connections held while N triggers on one connection id wait (goal <= 2);
2. health queries the server receives per poll interval while they wait (goal 1);
3. refresh-commit-to-success latency for a sensor with poke_interval=60 while the N others
   wait (goal p50 < 1 s): a scheduler refresh (the double's tick) commits, the trigger fires;
4. for comparison, connections held by triggers running alone (`run()`, what Airflow < 3.3
   does, and what every trigger did before the shared stream).

Nothing is asserted; figures go in bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
from datetime import datetime, timedelta, timezone
from typing import Any

from airflow.triggers.shared_stream import SharedStreamManager

from airflow_provider_pgtrickle.testing.server import TestDatabase, start_double_server
from airflow_provider_pgtrickle.triggers.pgtrickle import PgTrickleHealthTrigger, hub_for

ST = "public.totals"
KEY = ("airflow_provider_pgtrickle", "postgres_default")
NEVER = "2100-01-01T00:00:00+00:00"


def trigger(poll_interval: float, min_data_timestamp: str | None) -> PgTrickleHealthTrigger:
    return PgTrickleHealthTrigger(
        postgres_conn_id="postgres_default",
        stream_tables=[ST],
        schema=None,
        max_staleness=None,
        min_data_timestamp=min_data_timestamp,
        fail_on_error=True,
        poll_interval=poll_interval,
        deadline=(datetime.now(timezone.utc) + timedelta(hours=1)).isoformat(),
    )


class Triggerer:
    """The triggerer's shared-stream path (`TriggerRunner.run_trigger`) for many triggers."""

    def __init__(self) -> None:
        self.manager = SharedStreamManager()
        self.tasks: list[asyncio.Task[dict[str, Any] | None]] = []

    def start(self, t: PgTrickleHealthTrigger) -> asyncio.Task[dict[str, Any] | None]:
        task = asyncio.create_task(self._run(len(self.tasks), t))
        self.tasks.append(task)
        return task

    async def _run(self, trigger_id: int, t: PgTrickleHealthTrigger) -> dict[str, Any] | None:
        key = t.shared_stream_key()
        stream = self.manager.subscribe(trigger_id=trigger_id, trigger=t, key=key)
        try:
            async for event in t.filter_shared_stream(stream):
                return dict(event.payload)
            return None
        finally:
            await self.manager.unsubscribe(trigger_id, key)

    async def stop(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        await self.manager.stop_all()


def backends(db: TestDatabase) -> int:
    with db.connect() as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s"
            " AND backend_type = 'client backend' AND pid <> pg_backend_pid()",
            [db.dbname],
        ).fetchone()
    return int(row[0]) if row else -1


def health_queries_in_log(log_text: str, dbname: str) -> int:
    return sum(
        1
        for line in log_text.splitlines()
        if f"db={dbname} " in line and "pg_stat_stream_tables" in line
    )


def tick(db: TestDatabase) -> None:
    with db.connect() as conn:
        conn.execute("INSERT INTO public.src SELECT coalesce(max(id), 0) + 1, 1 FROM public.src")
        conn.execute("SELECT * FROM pgtrickle_test.run_scheduler_tick()")


async def until(check: Any, timeout: float = 120) -> None:
    async with asyncio.timeout(timeout):
        while not check():
            await asyncio.sleep(0.01)


async def shared(db: TestDatabase, log_path: Any, n: int, rounds: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    triggerer = Triggerer()
    try:
        # 1. N sensors waiting (poke_interval=60) on one connection id.
        for _ in range(n):
            triggerer.start(trigger(60, NEVER))
        hub = hub_for(KEY)
        await until(lambda: len(hub.interests) == n and hub.queries >= 1)
        await asyncio.sleep(0.5)
        out["connections"] = await asyncio.to_thread(backends, db)
        out["join_queries"] = hub.queries

        # 2. Health queries per poll interval: add one sensor with poke_interval=2 s (the
        # stream polls at the smallest interval among the waiting sensors) and count the
        # server's log for 10 intervals.
        triggerer.start(trigger(2, NEVER))
        await asyncio.sleep(1.0)
        mark = log_path.stat().st_size
        q0 = hub.queries
        await asyncio.sleep(20.0)
        with log_path.open(encoding="utf-8", errors="replace") as log:
            log.seek(mark)
            logged = health_queries_in_log(log.read(), db.dbname)
        out["queries_per_interval_log"] = logged / 10
        out["queries_per_interval_hub"] = (hub.queries - q0) / 10

        # 3. Latency: one more sensor (poke_interval=60) waits for data newer than now; a
        # scheduler refresh commits; time from commit to its success event.
        latencies: list[float] = []
        for _ in range(rounds):
            start = datetime.now(timezone.utc).isoformat()
            task = triggerer.start(trigger(60, start))
            joined = hub.queries
            await until(lambda j=joined: hub.queries > j)
            await asyncio.sleep(0.2)
            await asyncio.to_thread(tick, db)
            committed = time.perf_counter()
            event = await asyncio.wait_for(task, 120)
            latencies.append(time.perf_counter() - committed)
            if event is None or event["status"] != "success":
                raise RuntimeError(f"latency round ended without success: {event!r}")
        out["latency"] = latencies
    finally:
        await triggerer.stop()
    await asyncio.sleep(0.5)
    out["connections_after"] = await asyncio.to_thread(backends, db)
    return out


async def solo(db: TestDatabase, n: int) -> int:
    """Connections held by N triggers each running alone (`run()`)."""

    async def one(t: PgTrickleHealthTrigger) -> None:
        async for _ in t.run():
            return

    tasks = [asyncio.create_task(one(trigger(60, NEVER))) for _ in range(n)]
    try:
        await asyncio.sleep(5.0)
        return await asyncio.to_thread(backends, db)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--triggers", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--solo", type=int, default=150)
    args = parser.parse_args()

    with start_double_server(log_statements=True) as server:
        assert server.log_path is not None
        db = server.create_database()
        os.environ.update(db.airflow_env("postgres_default"))
        with db.connect() as conn:
            conn.execute("CREATE TABLE public.src (id int PRIMARY KEY, v int NOT NULL)")
            conn.execute("INSERT INTO public.src VALUES (1, 1)")
            conn.execute(
                "SELECT pgtrickle.create_stream_table(%s, %s, schedule => 'calculated')",
                [ST, "SELECT count(*) AS n, sum(v) AS total FROM public.src"],
            )
        figures = asyncio.run(shared(db, server.log_path, args.triggers, args.rounds))
        held_solo = asyncio.run(solo(db, args.solo))

    lat = sorted(figures["latency"])
    p95 = lat[max(0, int(len(lat) * 0.95) - 1)]
    print(f"{args.triggers} waiting triggers, one connection id:")
    print(f"  server connections held:          {figures['connections']}")
    print(f"  health queries while they joined: {figures['join_queries']}")
    print(
        "  health queries per poll interval: "
        f"{figures['queries_per_interval_log']:.1f} (server log), "
        f"{figures['queries_per_interval_hub']:.1f} (stream counter)"
    )
    print(
        f"  refresh commit -> success, poke_interval=60, {len(lat)} rounds: "
        f"p50 {statistics.median(lat) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms, "
        f"max {lat[-1] * 1000:.0f} ms"
    )
    print(f"  connections after all ended:      {figures['connections_after']}")
    print(f"{args.solo} triggers each running alone (run()): {held_solo} server connections")


if __name__ == "__main__":
    main()
