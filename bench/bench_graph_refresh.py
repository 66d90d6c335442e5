"""The strict graph refresh against today's parallel per-table refresh, on the same graph.

Run: python bench/bench_graph_refresh.py [--layers 4] [--width 6] [--rounds 10] [--rows 200]

Builds a throwaway server with the pg_trickle 0.108.3 double and two copies of one layered
graph of stream tables (`--layers` x `--width`; layer 0 reads a source table, each table of
layer k reads two tables of layer k-1, so the graph is full of diamonds): one copy MANAGED,
one EXTERNAL. Each round appends `--rows` rows to each copy's source, then refreshes the whole
copy from its leaves (the last layer):

- parallel: `RefreshRunner` (what `PgTrickleRefreshOperator` does for MANAGED tables and on
  0.67.0): the plan query, then one transaction per table, upstream first, `--parallel`
  connections;
- strict: `PgTrickleHook.refresh_graph_strict` (what the operator does for EXTERNAL tables):
  one connection, one transaction, `graph_contract()` + `refresh_graph_strict()`.

Prints the median and max wall time per round, the statements the server logged per round
(`log_statement = all`; with many parallel connections writing the one log file some lines
interleave and the count runs low: per round the parallel path sends 1 + 4 N statements,
the plan read and BEGIN / refresh / history read / COMMIT per table, the strict path 4) and
the transactions. Nothing is asserted. As everywhere
in bench/, the double recomputes every query in full, so the figures compare the client
paths' round trips and transactions, not pg_trickle's incremental engine.
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import time
from pathlib import Path
from typing import Any

from airflow_provider_pgtrickle.testing.server import TestDatabase, start_double_server

CONN_ID = "pgtrickle_bench"


def build_graph(db: TestDatabase, schema: str, layers: int, width: int, mode: str) -> list[str]:
    """The graph in ``schema``; returns the leaves (the last layer), qualified."""
    with db.connect() as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
        conn.execute(f"CREATE TABLE {schema}.src (id int PRIMARY KEY, grp int NOT NULL, v int)")
        conn.execute(
            f"INSERT INTO {schema}.src SELECT i, i % {width}, i FROM generate_series(1, 1000) i"
        )
        for layer in range(layers):
            for i in range(width):
                if layer == 0:
                    query = f"SELECT grp, sum(v) AS total FROM {schema}.src GROUP BY grp"
                else:
                    a = f"{schema}.l{layer - 1}_{i}"
                    b = f"{schema}.l{layer - 1}_{(i + 1) % width}"
                    query = (
                        f"SELECT x.grp, x.total + y.total AS total FROM {a} x JOIN {b} y"
                        " ON x.grp = y.grp"
                    )
                conn.execute(
                    "SELECT pgtrickle.create_stream_table(name => %s, query => %s,"
                    " schedule => '1h', refresh_mode => 'DIFFERENTIAL',"
                    " orchestration_mode => %s)",
                    [f"{schema}.l{layer}_{i}", query, mode],
                )
    return [f"{schema}.l{layers - 1}_{i}" for i in range(width)]


def append_rows(db: TestDatabase, schema: str, rows: int) -> None:
    with db.connect() as conn:
        conn.execute(
            f"INSERT INTO {schema}.src SELECT m + i, (m + i) %% 7, i FROM generate_series(1, %s) i,"
            f" (SELECT max(id) AS m FROM {schema}.src) s",
            [rows],
        )


def log_lines(log: Path) -> int:
    with log.open(encoding="utf-8", errors="replace") as f:
        return sum(1 for line in f if "statement: " in line or "execute <" in line)


def measure(
    name: str, run: Any, prepare: Any, log: Path, rounds: int
) -> tuple[list[float], list[int]]:
    times, statements = [], []
    for _ in range(rounds):
        prepare()
        before = log_lines(log)
        t0 = time.perf_counter()
        run()
        times.append(time.perf_counter() - t0)
        time.sleep(0.2)  # let the server flush its log
        statements.append(log_lines(log) - before)
    print(
        f"{name:>9}: median {statistics.median(times) * 1000:7.1f} ms, max "
        f"{max(times) * 1000:7.1f} ms, statements per round {statistics.median(statements):.0f}"
    )
    return times, statements


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--width", type=int, default=6)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--rows", type=int, default=200, help="rows appended per round")
    parser.add_argument("--parallel", type=int, default=4, help="RefreshRunner max_parallel")
    args = parser.parse_args()

    with start_double_server(log_statements=True, version="0.108.3") as server:
        db = server.create_database()
        logging.getLogger("airflow.task.hooks").setLevel(logging.WARNING)
        os.environ[f"AIRFLOW_CONN_{CONN_ID.upper()}"] = db.airflow_uri
        from airflow_provider_pgtrickle._refresh import RefreshRunner
        from airflow_provider_pgtrickle.hooks.pgtrickle import PgTrickleHook

        build_graph(db, "g_managed", args.layers, args.width, "MANAGED")
        external = build_graph(db, "g_external", args.layers, args.width, "EXTERNAL")
        hook = PgTrickleHook(postgres_conn_id=CONN_ID)
        hook.capabilities()
        assert server.log_path is not None
        log = server.log_path
        tables = args.layers * args.width
        print(
            f"graph: {args.layers} layers x {args.width} = {tables} stream tables per copy, "
            f"{args.rows} new source rows per round, {args.rounds} rounds"
        )

        class Quiet:
            def __getattr__(self, _: str) -> Any:
                return lambda *a, **k: None

        def parallel() -> None:
            plan = hook.refresh_plan()
            selected = [e.name for e in plan if e.name.startswith("g_managed.")]
            results = RefreshRunner(hook, max_parallel=args.parallel, log=Quiet()).run(
                plan, selected
            )
            assert all(r.action.value == "refreshed" for r in results), results

        def strict() -> None:
            result = hook.refresh_graph_strict(external)
            assert len(result.nodes) == tables

        measure(
            "parallel",
            parallel,
            lambda: append_rows(db, "g_managed", args.rows),
            log,
            args.rounds,
        )
        measure(
            "strict",
            strict,
            lambda: append_rows(db, "g_external", args.rows),
            log,
            args.rounds,
        )
        print(
            f"transactions per round: parallel {tables} (one per table) + the plan read; "
            "strict 1 (the whole graph)"
        )


if __name__ == "__main__":
    main()
