#!/usr/bin/env bash
# The main job: install, start PostgreSQL 18 with pg_trickle (the test double unless
# PGTRICKLE_DSN names a real server), run the example Cosmos DAG twice and print a summary.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=$(EXTRAS=cosmos,testing VENV=${VENV:-.venv-demo} bash scripts/bootstrap.sh)
exec "$PY" scripts/demo.py "$@"
