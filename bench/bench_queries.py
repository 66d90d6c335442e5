"""Cost of the catalog reads that run on every poke and every dbt model, at catalog size N.

Run: python bench/bench_queries.py [--tables 2000] [--rounds 20] [--repo PATH]

Builds a throwaway server with the pg_trickle double and N real stream tables (a quarter
of them reading another stream table; each with refresh history), then measures:

1. one-table health poll: the health query for one name on an open connection (client
   round trip), and its server execution time (EXPLAIN ANALYZE);
2. a sensor poke over all N names: `PgTrickleHealthSensor.poke()` end to end (connect, query,
   rules, report, log line, close);
3. dbt's describe of one model: the statement `pgtrickle_get_stream_table_info` sends (taken
   from the server's statement log after a `dbt run-operation`), its round trip and server
   execution time.

`--repo` points the dbt package at another checkout (e.g. an export of the previous commit),
so before/after figures come from one script; run Python from that checkout too with
`PYTHONPATH=PATH`. Prints medians; nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg

from airflow_provider_pgtrickle.testing.server import TestDatabase, start_double_server

REPO_ROOT = Path(__file__).resolve().parents[1]
CONN_ID = "pgtrickle_bench"


def median_ms(fn: Callable[[], Any], rounds: int) -> float:
    fn()  # warm caches and plans
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1000


def server_ms(conn: psycopg.Connection[Any], query: Any, params: Any, rounds: int) -> float:
    """Median `Execution Time` of EXPLAIN ANALYZE (planning excluded)."""
    from psycopg import sql

    explain = sql.Composed([sql.SQL("EXPLAIN (ANALYZE, FORMAT JSON) "), query])
    times = []
    for _ in range(rounds):
        row = conn.execute(explain, params).fetchone()
        assert row is not None
        plan = row[0] if isinstance(row[0], list) else json.loads(row[0])
        times.append(float(plan[0]["Execution Time"]))
    return statistics.median(times)


def build_catalog(db: TestDatabase, tables: int, history: int) -> list[str]:
    """`tables` stream tables; every fourth reads the one before it (so the dependency graph
    is not empty), and each gets `history` refresh history rows, as a scheduler leaves."""
    names = [f"public.st_{i:05d}" for i in range(tables)]
    with db.connect() as conn:
        conn.execute("CREATE TABLE public.src (id int PRIMARY KEY, grp int NOT NULL, v int)")
        conn.execute("INSERT INTO public.src SELECT i, i % 50, i FROM generate_series(1, 500) i")
        t0 = time.perf_counter()
        for i, name in enumerate(names):
            if i % 4 == 3:
                query = f"SELECT grp, total FROM {names[i - 1]}"
            else:
                query = (
                    f"SELECT grp, sum(v) AS total FROM public.src WHERE grp = {i % 50} GROUP BY grp"
                )
            conn.execute(
                "SELECT pgtrickle.create_stream_table(%s, %s, schedule => '1h')", [name, query]
            )
        conn.execute(
            "INSERT INTO pgtrickle.pgt_refresh_history (pgt_id, data_timestamp, start_time,"
            " end_time, action, status, initiated_by)"
            " SELECT st.pgt_id, now() - k * interval '1 minute', now() - k * interval '1 minute',"
            " now() - k * interval '1 minute' + interval '20 ms', 'DIFFERENTIAL', 'COMPLETED',"
            " 'SCHEDULER' FROM pgtrickle.pgt_stream_tables st, generate_series(1, %s) k",
            [history],
        )
        conn.execute("ANALYZE")
        print(
            f"  built {tables} stream tables ({tables // 4} reading another) with {history}"
            f" history rows each in {time.perf_counter() - t0:.1f} s",
            flush=True,
        )
    return names


def bench_health(db: TestDatabase, names: list[str], rounds: int) -> None:
    from airflow_provider_pgtrickle import _health
    from airflow_provider_pgtrickle.sensors.pgtrickle import PgTrickleHealthSensor

    one = [names[len(names) // 2]]
    with db.connect() as conn:
        query, params = _health.health_query(one, None)
        poll = median_ms(lambda: conn.execute(query, params).fetchall(), rounds)
        poll_server = server_ms(conn, query, params, rounds)
        query_all, params_all = _health.health_query(names, None)
        every = median_ms(lambda: conn.execute(query_all, params_all).fetchall(), rounds)
        every_server = server_ms(conn, query_all, params_all, rounds)
    print(f"one-table health poll: {poll:.2f} ms round trip, {poll_server:.2f} ms server")
    print(
        f"health query over all {len(names)} names: {every:.2f} ms round trip,"
        f" {every_server:.2f} ms server"
    )

    os.environ.update(db.airflow_env(CONN_ID))
    sensor = PgTrickleHealthSensor(
        task_id="bench", stream_tables=names, postgres_conn_id=CONN_ID, deferrable=False
    )
    payload: dict[str, Any] = {}

    def poke() -> None:
        result = sensor.poke({})  # type: ignore[arg-type]
        payload["xcom"] = result.xcom_value

    # The sensor's log line goes to stdout: keep it out of the figures' output.
    with open(os.devnull, "w") as devnull:
        stdout, sys.stdout = sys.stdout, devnull
        try:
            poke_ms = median_ms(poke, max(rounds // 2, 5))
        finally:
            sys.stdout = stdout
    size = len(json.dumps(payload["xcom"])) if payload.get("xcom") else 0
    print(f"sensor poke over {len(names)} names (end to end): {poke_ms:.1f} ms; XCom {size} bytes")


DBT_PROJECT = """\
name: pgtrickle_bench
version: "0.1.0"
config-version: 2
profile: pgtrickle_bench
macro-paths: ["macros"]
"""

DBT_PROFILE = """\
pgtrickle_bench:
  target: dev
  outputs:
    dev:
      type: postgres
      host: "{{ env_var('PGHOST') }}"
      port: "{{ env_var('PGPORT') | int }}"
      user: "{{ env_var('PGUSER') }}"
      password: "{{ env_var('PGPASSWORD') }}"
      dbname: "{{ env_var('PGDATABASE') }}"
      schema: public
      threads: 1
"""

DBT_MACRO = """\
{% macro bench_describe(name) %}
  {%- set relation = api.Relation.create(schema='public', identifier=name) -%}
  {%- set info = dbt_pg_trickle.pgtrickle_get_stream_table_info(relation) -%}
  {{ log('described ' ~ info.qualified_name, info=true) }}
{% endmacro %}
"""


def describe_statement(db: TestDatabase, log_path: Path, repo: Path, name: str) -> str:
    """The SQL dbt sends to describe one model, read from the server's statement log."""
    from airflow_provider_pgtrickle.testing.pytest_plugin import StatementLog

    with tempfile.TemporaryDirectory() as tmp:
        project = Path(tmp)
        (project / "dbt_project.yml").write_text(DBT_PROJECT)
        (project / "profiles.yml").write_text(DBT_PROFILE)
        (project / "packages.yml").write_text(f"packages:\n  - local: {json.dumps(str(repo))}\n")
        (project / "macros").mkdir()
        (project / "macros" / "bench_describe.sql").write_text(DBT_MACRO)
        env = {k: v for k, v in os.environ.items() if not k.startswith("DBT_")}
        env.update(db.dbt_env())
        env.update({"DBT_PROFILES_DIR": tmp, "DBT_SEND_ANONYMOUS_USAGE_STATS": "False"})
        dbt = str(Path(sys.executable).with_name("dbt"))
        subprocess.run([dbt, "deps"], cwd=project, env=env, check=True, capture_output=True)
        log = StatementLog(log_path, db.dbname)
        log.mark()
        args = json.dumps({"name": name.split(".")[1]})
        subprocess.run(
            [dbt, "run-operation", "bench_describe", "--args", args],
            cwd=project,
            env=env,
            check=True,
            capture_output=True,
        )
    found = [s for s in log.statements() if "pgtrickle.pgt_stream_tables" in s]
    assert len(found) == 1, found
    return found[0]


def bench_describe(
    db: TestDatabase, log_path: Path, repo: Path, names: list[str], rounds: int
) -> None:
    from psycopg import sql

    statement = describe_statement(db, log_path, repo, names[len(names) // 2])
    query = sql.SQL(statement)  # type: ignore[arg-type]  # taken verbatim from the log
    with db.connect() as conn:
        client = median_ms(lambda: conn.execute(query).fetchall(), rounds)
        server = server_ms(conn, query, None, rounds)
    print(f"dbt describe of one model: {client:.2f} ms round trip, {server:.2f} ms server")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tables", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--history", type=int, default=50, help="history rows per table")
    parser.add_argument("--repo", type=Path, default=REPO_ROOT, help="dbt package checkout")
    args = parser.parse_args()

    with start_double_server(log_statements=True) as server:
        db = server.create_database()
        names = build_catalog(db, args.tables, args.history)
        bench_health(db, names, args.rounds)
        assert server.log_path is not None
        bench_describe(db, server.log_path, args.repo.resolve(), names, args.rounds)


if __name__ == "__main__":
    main()
