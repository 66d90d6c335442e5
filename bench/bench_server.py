"""Start-up cost of the throwaway PostgreSQL 18 test server and of a fresh test database.

Run: python bench/bench_server.py [--rounds N]
Prints median and max wall times; nothing is asserted (figures go in release notes).
"""

from __future__ import annotations

import argparse
import statistics
import time

from airflow_provider_pgtrickle.testing.server import start_double_server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--databases", type=int, default=20)
    args = parser.parse_args()

    starts: list[float] = []
    creates: list[float] = []
    for _ in range(args.rounds):
        t0 = time.perf_counter()
        with start_double_server(log_statements=False) as server:
            starts.append(time.perf_counter() - t0)
            for _ in range(args.databases):
                t1 = time.perf_counter()
                db = server.create_database()
                creates.append(time.perf_counter() - t1)
                server.drop_database(db.dbname)

    def fmt(xs: list[float]) -> str:
        return f"median {statistics.median(xs) * 1000:.0f} ms, max {max(xs) * 1000:.0f} ms"

    print(f"server start (initdb + start + template with pg_trickle): {fmt(starts)}")
    print(f"fresh database with pg_trickle (template clone):          {fmt(creates)}")


if __name__ == "__main__":
    main()
