"""Server time per load of the stream tables page (Airflow UI plugin) at 2,000 stream tables.

Run: python bench/bench_ui.py [--tables 2000] [--rounds 15]

Builds a catalog on the throwaway PostgreSQL 18 with the pg_trickle double: `--sources`
plain tables, half of the stream tables reading one or two sources, the other half reading
an earlier stream table and a source (a layered graph), every tenth refreshed a few times
(history), and a few in ERROR. Then it calls the plugin's app in-process, authenticated as
an Airflow user, the way the page does on every load and every 30 s refresh:
`/api/config`, `/api/connections`, `/api/connections/<id>/overview`, and the history of one
table (a click on a node). Prints the median and max of each and the overview's JSON size.
Nothing is asserted; figures go in bench/README.md.

Timing is the server's work (routing, auth, SQL, JSON) without network; the browser's own
rendering is not included.
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from airflow_provider_pgtrickle.testing.server import start_double_server


def _build(conn: Any, tables: int, sources: int) -> list[str]:
    conn.execute("CREATE SCHEMA IF NOT EXISTS mart")
    for s in range(sources):
        conn.execute(f"CREATE TABLE public.src_{s} (id int PRIMARY KEY, k int, v numeric)")
        conn.execute(
            f"INSERT INTO public.src_{s} SELECT g, g % 10, g FROM generate_series(1, 50) g"
        )
    names: list[str] = []
    create = "SELECT pgtrickle.create_stream_table(%s, %s, %s)"
    for i in range(tables):
        schema = "public" if i < tables // 2 else "mart"
        name = f"{schema}.st_{i:05d}"
        a, b = i % sources, (i * 7 + 3) % sources
        if i < tables // 2:
            query = f"SELECT k, sum(v) AS total FROM public.src_{a} GROUP BY k"
            if i % 3 == 0:
                query = (
                    f"SELECT x.k, sum(x.v) AS total FROM public.src_{a} x"
                    f" JOIN public.src_{b} y ON y.id = x.id GROUP BY x.k"
                )
        else:
            upstream = names[i - tables // 2]
            query = (
                f"SELECT u.k, sum(u.total) AS total FROM {upstream} u"
                f" JOIN public.src_{b} y ON y.id = u.k GROUP BY u.k"
            )
        conn.execute(create, [name, query, "5m"])
        names.append(name)
        if i % 10 == 0:
            for _ in range(3):
                conn.execute("SELECT pgtrickle.refresh_stream_table(%s)", [name])
    for name in names[:: max(1, tables // 5)]:
        conn.execute("SELECT pgtrickle_test.inject_failure(%s, 'bench failure', true)", [name])
        conn.execute("SELECT pgtrickle_test.age_stream_table(%s, '1 hour')", [name])
    conn.execute("SELECT * FROM pgtrickle_test.run_scheduler_tick()")
    return names


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tables", type=int, default=2000)
    parser.add_argument("--sources", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    logging.disable(logging.INFO)  # the test client logs every request

    home = Path(tempfile.mkdtemp(prefix="pgtrickle-bench-ui-"))
    os.environ.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
            "AIRFLOW__API_AUTH__JWT_SECRET": "bench-ui-only-" + "b" * 50,
        }
    )
    subprocess.run(
        [sys.executable, "-m", "airflow", "db", "migrate"], check=True, capture_output=True
    )

    from airflow.api_fastapi.app import init_auth_manager
    from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser
    from fastapi.testclient import TestClient

    from airflow_provider_pgtrickle.ui.app import create_app

    with start_double_server(log_statements=False) as server:
        db = server.create_database()
        os.environ.update(db.airflow_env("warehouse"))
        t0 = time.perf_counter()
        with db.connect(autocommit=True) as conn:
            names = _build(conn, args.tables, args.sources)
        print(f"built {args.tables} stream tables in {time.perf_counter() - t0:.0f} s")

        manager = init_auth_manager()
        token = manager.generate_jwt(SimpleAuthManagerUser(username="bench", role="viewer"))
        client = TestClient(create_app())
        client.cookies.set("_token", token)
        paths = {
            "config": "/api/config",
            "connections": "/api/connections",
            "overview": "/api/connections/warehouse/overview",
            "history (one table)": f"/api/connections/warehouse/stream-tables/{names[0]}/history",
        }
        times: dict[str, list[float]] = {k: [] for k in paths}
        size = 0
        inside: list[float] = []
        for _ in range(args.rounds):
            for label, path in paths.items():
                t1 = time.perf_counter()
                response = client.get(path)
                times[label].append(time.perf_counter() - t1)
                response.raise_for_status()
                if label == "overview":
                    size = len(response.content)
                    # The endpoint's own time (hook, SQL, JSON), without the test client.
                    timing = response.headers["server-timing"]
                    inside.append(float(timing.split("dur=")[1]) / 1000)
                    body = response.json()
        page = [
            sum(ts)
            for ts in zip(times["config"], times["connections"], times["overview"], strict=True)
        ]

        def fmt(xs: list[float]) -> str:
            return f"median {statistics.median(xs) * 1000:7.1f} ms, max {max(xs) * 1000:7.1f} ms"

        print(
            f"{len(body['stream_tables'])} stream tables, {len(body['nodes'])} graph nodes, "
            f"{len(body['edges'])} edges; overview JSON {size / 1024:.0f} KiB"
        )
        for label, xs in times.items():
            print(f"{label:22s} {fmt(xs)}")
        print(f"{'page load (3 calls)':22s} {fmt(page)}")
        print(f"{'overview, in endpoint':22s} {fmt(inside)}")
        print(f"load average: {' '.join(f'{x:.1f}' for x in os.getloadavg())} (2 cores)")


if __name__ == "__main__":
    main()
