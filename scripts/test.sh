#!/usr/bin/env bash
# Run everything CI runs: lint, format check, types, then the whole pytest suite.
# Extra arguments go to pytest, e.g. `bash scripts/test.sh tests/provider -k sensor`.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=$(bash scripts/bootstrap.sh)
BIN=$(dirname "$PY")
echo "== ruff check"; "$BIN/ruff" check --no-cache .
echo "== ruff format --check"; "$BIN/ruff" format --no-cache --check .
echo "== mypy"; "$BIN/mypy"
"$PY" - <<'PY'
from importlib.metadata import version
names = ("apache-airflow", "apache-airflow-providers-postgres", "astronomer-cosmos", "dbt-core", "dbt-postgres")
print("== versions:", ", ".join(f"{n} {version(n)}" for n in names))
PY
echo "== pytest"; "$PY" -m pytest "$@"
