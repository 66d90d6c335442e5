#!/usr/bin/env bash
# Create (or reuse) the project virtualenv and install the project into it.
# Usage: source-free; prints the venv's python path on its last line.
#   VENV=.venv EXTRAS=dev bash scripts/bootstrap.sh
# DBT_CORE_VERSION (default 1.10, the version CI tests) pins dbt-core/dbt-postgres to that
# minor version through a pip constraint; DBT_CORE_VERSION=1.9 or 1.11 builds the optional
# second test environment for the dbt package.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
EXTRAS=${EXTRAS:-dev}
PY=${PYTHON:-$(command -v python3.11 || command -v python3)}
DBT_CORE_VERSION=${DBT_CORE_VERSION:-1.10}

if [ ! -x "$VENV/bin/python" ]; then
  echo "bootstrap: creating $VENV with $($PY --version)" >&2
  "$PY" -m venv "$VENV"
fi

# Reinstall only when the dependency declaration changed: pip's resolver alone costs ~10 s.
stamp="$VENV/.pgtrickle-installed"
want="$(cat pyproject.toml; echo "$EXTRAS $DBT_CORE_VERSION")"
# pip's output goes to a log that is shown only when an install fails.
log="$VENV/pip-install.log"
pip_install() {
  if ! "$VENV/bin/python" -m pip install --disable-pip-version-check "$@" >>"$log" 2>&1; then
    cat "$log" >&2
    echo "bootstrap: pip install $* failed (log above, also in $log)" >&2
    exit 1
  fi
}
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "bootstrap: installing .[$EXTRAS] into $VENV (first time: one to three minutes; pip log: $log)" >&2
  : > "$log"
  pip_install --upgrade pip
  # A constraint, not a second install: one resolution, and dbt stays on the tested line.
  constraints="$VENV/dbt-constraints.txt"
  printf 'dbt-core~=%s.0\ndbt-postgres~=%s.0\n' "$DBT_CORE_VERSION" "$DBT_CORE_VERSION" > "$constraints"
  pip_install -e ".[$EXTRAS]" -c "$constraints"
  printf '%s' "$want" > "$stamp"
fi
echo "$VENV/bin/python"
