"""Cost of create and refresh in the pg_trickle test double against the size of its catalog.

Run: python bench/bench_double.py [--sizes 0 500 2000] [--samples 20]

For each catalog size N, a fresh database gets N stream tables (each over its own small
source table, like a dbt project with many models), then one more stream table (over a
100-row source) is created, refreshed after a change and dropped `--samples` times, first in
the session that built the catalog (as a dbt run would) and then in a new session (as an
Airflow task would). The script prints the median and max wall time of one
`create_stream_table` and of one `refresh_stream_table` call, each in its own transaction.
Nothing is asserted (figures go in bench/README.md). The test double recomputes every query
in full, so these numbers say nothing about the speed of the real pg_trickle.
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

import psycopg

from airflow_provider_pgtrickle.testing.server import TestDatabase, start_double_server

CREATE = "SELECT pgtrickle.create_stream_table(%s, %s, schedule => '1h', refresh_mode => %s)"
REFRESH = "SELECT pgtrickle.refresh_stream_table(%s)"
DROP = "SELECT pgtrickle.drop_stream_table(%s)"


def _fill(conn: psycopg.Connection[Any], count: int) -> None:
    """`count` stream tables, each over its own three-row source, committed in batches."""
    batch = 100
    for start in range(0, count, batch):
        with conn.transaction():
            for i in range(start, min(start + batch, count)):
                conn.execute(f"CREATE TABLE fill_src_{i} (id integer PRIMARY KEY, v integer)")
                conn.execute(f"INSERT INTO fill_src_{i} VALUES (1, 10), (2, 20), (3, 30)")
                conn.execute(
                    CREATE, [f"public.fill_{i}", f"SELECT id, v FROM fill_src_{i}", "DIFFERENTIAL"]
                )
    conn.execute("ANALYZE")


def _timed(conn: psycopg.Connection[Any], query: str, params: list[Any]) -> float:
    t0 = time.perf_counter()
    with conn.transaction():
        conn.execute(query, params)
    return time.perf_counter() - t0


def _samples(conn: psycopg.Connection[Any], samples: int, out: dict[str, list[float]]) -> None:
    for i in range(samples):
        name = f"public.bench_{i}"
        out["create"].append(_timed(conn, CREATE, [name, "SELECT id, v FROM bench_src", "FULL"]))
        conn.execute("UPDATE bench_src SET v = v + 1 WHERE id = %s", [i + 1])
        out["refresh"].append(_timed(conn, REFRESH, [name]))
        # Keep the catalog at its size so every sample sees the same catalog.
        conn.execute(DROP, [name])


def _measure(db: TestDatabase, size: int, samples: int) -> dict[str, dict[str, list[float]]]:
    out: dict[str, dict[str, list[float]]] = {
        session: {"create": [], "refresh": []} for session in ("same", "new")
    }
    with db.connect(autocommit=True) as conn:
        conn.execute("CREATE TABLE bench_src (id integer PRIMARY KEY, v integer)")
        conn.execute("INSERT INTO bench_src SELECT g, g FROM generate_series(1, 100) g")
        t0 = time.perf_counter()
        _fill(conn, size)
        print(f"  filled {size} stream tables in {time.perf_counter() - t0:.1f} s", flush=True)
        # The session that built the catalog, like a dbt run creating one model after another.
        _samples(conn, samples, out["same"])
    # A new session, like an Airflow task.
    with db.connect(autocommit=True) as conn:
        _samples(conn, samples, out["new"])
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[0, 500, 2000])
    parser.add_argument("--samples", type=int, default=20)
    args = parser.parse_args()

    results: list[tuple[int, dict[str, dict[str, list[float]]]]] = []
    with start_double_server(log_statements=False) as server:
        for size in args.sizes:
            print(f"catalog size {size}:", flush=True)
            db = server.create_database()
            try:
                results.append((size, _measure(db, size, args.samples)))
            finally:
                server.drop_database(db.dbname)

    def ms(xs: list[float]) -> str:
        return f"{statistics.median(xs) * 1000:7.1f} / {max(xs) * 1000:7.1f}"

    print()
    print("| stream tables | session | create ms (median / max) | refresh ms (median / max) |")
    print("|---:|---|---:|---:|")
    for size, res in results:
        for session, label in (("same", "the one that created them"), ("new", "a new one")):
            times = res[session]
            print(f"| {size} | {label} | {ms(times['create'])} | {ms(times['refresh'])} |")


if __name__ == "__main__":
    main()
