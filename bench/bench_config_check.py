"""Cost of the dbt package's config check per model (`pgtrickle_check_config`).

Run: python bench/bench_config_check.py [--models 1000] [--rounds 3]

Every stream_table model, and every model `pgtrickle_managed_stream_tables` looks at, goes
through the check, which reads the generated vocabulary macro. This runs one
`dbt run-operation vocabulary_cases` (integration_tests/macros) with 1 config and with
`--models` configs (all arguments set, valid), and prints the median wall time of each and
the difference per config. Nothing is asserted.
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
import time
from pathlib import Path

from airflow_provider_pgtrickle.testing.server import start_double_server

REPO_ROOT = Path(__file__).resolve().parents[1]
CONFIG = {
    "stream_table_name": "orders",
    "stream_table_schema": "analytics",
    "schedule": "*/5 * * * *",
    "refresh_mode": "incremental",
    "status": "paused",
    "initialize": "true",
    "cdc_mode": "trigger",
    "partition_by": "HASH:order_id:8",
    "append_only": False,
    "fuse": "auto",
    "fuse_ceiling": 1000,
    "fuse_sensitivity": 3,
    "diamond_consistency": "atomic",
    "diamond_schedule_policy": "slowest",
    "max_differential_joins": 4,
    "max_delta_fraction": 0.25,
    "pooler_compatibility_mode": False,
    "on_configuration_change": "apply",
    "temporal": False,
    "storage_backend": "heap",
    "output_distribution_column": "order_id",
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--models", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    options = parser.parse_args()
    dbt = str(Path(sys.executable).with_name("dbt"))
    with start_double_server(log_statements=False) as server, tempfile.TemporaryDirectory() as tmp:
        db = server.create_database()
        project = Path(tmp) / "integration_tests"
        shutil.copytree(
            REPO_ROOT / "integration_tests",
            project,
            ignore=shutil.ignore_patterns("target", "logs", "dbt_packages", "package-lock.yml"),
        )
        (project / "packages.yml").write_text(
            f"packages:\n  - local: {json.dumps(str(REPO_ROOT))}\n", encoding="utf-8"
        )
        env = {k: v for k, v in os.environ.items() if not k.startswith("DBT_")}
        env.update(db.dbt_env())
        env.update({"DBT_PROFILES_DIR": str(project), "DO_NOT_TRACK": "1"})
        subprocess.run([dbt, "deps"], cwd=project, env=env, check=True, capture_output=True)

        def run(count: int) -> float:
            args = json.dumps({"cases": [CONFIG], "repeat": count})
            t0 = time.perf_counter()
            subprocess.run(
                [dbt, "run-operation", "vocabulary_cases", "--args", args],
                cwd=project,
                env=env,
                check=True,
                capture_output=True,
            )
            return time.perf_counter() - t0

        run(1)  # parse the project once (partial parsing afterwards)
        one = statistics.median(run(1) for _ in range(options.rounds))
        many = statistics.median(run(options.models) for _ in range(options.rounds))
    print(f"run-operation with 1 config: {one:.2f} s")
    print(f"run-operation with {options.models} configs: {many:.2f} s")
    print(f"per config: {(many - one) / (options.models - 1) * 1000:.2f} ms")


if __name__ == "__main__":
    main()
