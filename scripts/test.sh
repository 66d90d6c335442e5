#!/usr/bin/env bash
# Run everything CI runs: lint, format check, types, the docs build, then the whole pytest suite.
# Extra arguments go to pytest, e.g. `bash scripts/test.sh tests/provider -k sensor`.
# `--fast` (first argument) runs pytest alone and skips the tests marked slow: the quick loop
# while developing, e.g. `bash scripts/test.sh --fast tests/provider -k sensor`.
set -euo pipefail
cd "$(dirname "$0")/.."
fast=false
if [ "${1:-}" = "--fast" ]; then
  fast=true
  shift
fi
PY=$(bash scripts/bootstrap.sh)
BIN=$(dirname "$PY")
if $fast; then
  echo "== pytest (fast: no lint, no types, no docs, -m 'not slow')"
  exec "$PY" -m pytest -m "not slow" "$@"
fi
echo "== ruff check"; "$BIN/ruff" check --no-cache .
echo "== ruff format --check"; "$BIN/ruff" format --no-cache --check .
echo "== mypy"; "$BIN/mypy"
# The dbt macros and the docs tables rendered from the vocabulary are current.
echo "== generated files"; "$PY" scripts/generate_vocabulary.py --check
# --strict turns every warning (a broken link or anchor, a missing snippet) into a failure.
echo "== mkdocs build --strict"; NO_MKDOCS_2_WARNING=1 "$BIN/mkdocs" build --strict --quiet --site-dir "$(mktemp -d)"
"$PY" - <<'PY'
from importlib.metadata import version
names = ("apache-airflow", "apache-airflow-providers-postgres", "astronomer-cosmos", "dbt-core", "dbt-postgres")
print("== versions:", ", ".join(f"{n} {version(n)}" for n in names))
PY
echo "== pytest"; "$PY" -m pytest "$@"
