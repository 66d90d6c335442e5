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
# Tests run in a random order (pytest-randomly), so one that passes only after another fails.
# The seed is chosen here and printed before and after the run (pytest's own header line,
# `Using --randomly-seed=N`, is hidden by -q); `--randomly-seed=N` after the script's
# arguments, or PGTRICKLE_TEST_SEED=N, repeats an order; `-p no:randomly` is file order.
seed=${PGTRICKLE_TEST_SEED:-$(( (RANDOM << 15) | RANDOM ))}
run_pytest() {
  local rc=0
  "$PY" -m pytest -p randomly --randomly-seed="$seed" "$@" || rc=$?
  if [ "$rc" -ne 0 ]; then
    echo "== pytest failed (exit $rc) in the order of --randomly-seed=$seed;" \
      "PGTRICKLE_TEST_SEED=$seed bash scripts/test.sh ... repeats it"
  fi
  return "$rc"
}
if $fast; then
  echo "== pytest (fast: no lint, no types, no docs, -m 'not slow'; random order, seed $seed)"
  run_pytest -m "not slow" "$@"
  exit
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
echo "== pytest (random order, seed $seed)"; run_pytest "$@"
