"""What DAG files pay to import the provider, and how long each example DAG file takes to parse.

Run: python bench/bench_imports.py [--rounds N]

Each figure is the median over fresh interpreters (Airflow parses DAG files in fresh
processes too). Import figures are the cost *over* `import airflow.sdk`, which every DAG file
pays anyway. Nothing is asserted: the figures go into release notes.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from airflow_provider_pgtrickle.cosmos import dbt_package_env

ROOT = Path(__file__).resolve().parents[1]

MODULES = [
    "airflow_provider_pgtrickle.operators.pgtrickle",
    "airflow_provider_pgtrickle.sensors.pgtrickle",
    "airflow_provider_pgtrickle.hooks.pgtrickle",
    "airflow_provider_pgtrickle.cosmos",
]

_IMPORT = r"""
import json, sys, time
t0 = time.perf_counter()
import airflow.sdk
before = set(sys.modules)
t1 = time.perf_counter()
__import__(sys.argv[1])
t2 = time.perf_counter()
# airflow.sdk itself may import Cosmos (its plugin) when installed: count only what we add.
new = {m.split('.')[0] for m in set(sys.modules) - before}
heavy = sorted(new & {'dbt', 'cosmos', 'psycopg_pool'})
print(json.dumps({"sdk": t1 - t0, "module": t2 - t1, "heavy": heavy}))
"""

_PARSE = r"""
import json, sys, time
t0 = time.perf_counter()
from airflow.dag_processing.dagbag import DagBag
t1 = time.perf_counter()
bag = DagBag(dag_folder=sys.argv[1])
t2 = time.perf_counter()
print(json.dumps({"airflow": t1 - t0, "parse": t2 - t1, "errors": len(bag.import_errors),
                  "dags": len(bag.dags)}))
"""


def run(code: str, *args: str, env: dict[str, str]) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        check=True,
        env=env,
        cwd=ROOT,
    )
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as home:
        env = {
            **os.environ,
            "AIRFLOW_HOME": home,
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            # No database is reachable: parsing must not need one.
            "AIRFLOW_CONN_POSTGRES_DEFAULT": "postgres://nobody@127.0.0.1:9/none",
            # Cosmos caches `dbt ls` output in Airflow Variables (needs a metadata database);
            # measure the uncached cost, which every change of the project pays.
            "AIRFLOW__COSMOS__ENABLE_CACHE_DBT_LS": "False",
        }
        run(_IMPORT, "airflow_provider_pgtrickle", env=env)  # warm the bytecode caches
        print(f"{'import (over airflow.sdk)':<52} {'median ms':>10} {'max ms':>8}  dbt/cosmos/pool")
        for module in MODULES:
            samples = [run(_IMPORT, module, env=env) for _ in range(args.rounds)]
            times = [s["module"] * 1000 for s in samples]
            print(
                f"{module:<52} {statistics.median(times):>10.1f} {max(times):>8.1f}"
                f"  {samples[-1]['heavy'] or '-'}"
            )
        # A copy of dags/, first as checked out (Cosmos falls back to `dbt ls`), then after
        # `dbt deps && dbt parse` as a deployment would run them (LoadMode.DBT_MANIFEST).
        dags = Path(home) / "dags"
        shutil.copytree(
            ROOT / "dags",
            dags,
            ignore=shutil.ignore_patterns("target", "dbt_packages", "logs", "package-lock.yml"),
        )
        env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
        env.update(dbt_package_env())
        parse_all(dags, "no manifest", args.rounds, env)
        project = dags / "dbt" / "jaffle_stream"
        for command in ("deps", "parse"):
            subprocess.run(
                ["dbt", command, "--project-dir", project, "--profiles-dir", project],
                env={**env, "DBT_LOG_PATH": str(project / "logs")},
                check=True,
                capture_output=True,
            )
        parse_all(dags, "with manifest", args.rounds, env)


def parse_all(dags: Path, label: str, rounds: int, env: dict[str, str]) -> None:
    print()
    title = f"DAG file parse, {label} (DagBag, fresh process)"
    print(f"{title:<52} {'median ms':>10} {'max ms':>8}")
    for dag_file in sorted(dags.glob("*.py")):
        samples = [run(_PARSE, str(dag_file), env=env) for _ in range(rounds)]
        times = [s["parse"] * 1000 for s in samples]
        errors = int(samples[-1]["errors"])
        note = f"  {errors} import errors" if errors else ""
        print(f"{dag_file.name:<52} {statistics.median(times):>10.1f} {max(times):>8.1f}{note}")


if __name__ == "__main__":
    main()
