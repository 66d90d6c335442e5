"""Where the `dbt_pg_trickle` dbt package lives on this machine.

The package travels inside the wheel (`airflow_provider_pgtrickle/dbt_package/`); in a source
checkout or an editable install the repository root is the package. A dbt project references
it by absolute path through an environment variable, because Cosmos runs `dbt deps` from a
temporary copy of the project, where a relative `local: ../..` path no longer resolves.
In a shell: `export DBT_PG_TRICKLE_PATH="$(python -m airflow_provider_pgtrickle.cosmos)"`::

    # packages.yml
    packages:
      - local: "{{ env_var('DBT_PG_TRICKLE_PATH') }}"

This module is deliberately free of dbt and Cosmos imports: DAG files call it at parse time.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from airflow_provider_pgtrickle.exceptions import PgTrickleError

DBT_PACKAGE_NAME = "dbt_pg_trickle"
DBT_PACKAGE_ENV_VAR = "DBT_PG_TRICKLE_PATH"

_PROVIDER_DIR = Path(__file__).resolve().parent.parent
_NAME_LINE = re.compile(rf"^name:\s*['\"]?{DBT_PACKAGE_NAME}['\"]?\s*$", re.MULTILINE)


def _is_dbt_package(path: Path) -> bool:
    project_file = path / "dbt_project.yml"
    if not project_file.is_file() or not (path / "macros").is_dir():
        return False
    # The parent of an installed package is site-packages; only accept a directory whose
    # dbt_project.yml really is ours.
    return bool(_NAME_LINE.search(project_file.read_text(encoding="utf-8")))


@cache
def dbt_package_path() -> Path:
    """Absolute path of the `dbt_pg_trickle` dbt package shipped with this provider.

    :return: the bundled copy inside the installed wheel, or the repository root of a source
        checkout / editable install.
    :raises PgTrickleError: when neither location holds the package.
    """
    for candidate in (_PROVIDER_DIR / "dbt_package", _PROVIDER_DIR.parent):
        if _is_dbt_package(candidate):
            return candidate
    raise PgTrickleError(
        f"The dbt package `{DBT_PACKAGE_NAME}` was not found next to `{_PROVIDER_DIR}`; "
        "reinstall with `pip install --force-reinstall airflow-provider-pgtrickle`."
    )


def dbt_package_env(variable: str = DBT_PACKAGE_ENV_VAR) -> dict[str, str]:
    """Environment for dbt commands whose `packages.yml` reads `env_var(variable)`.

    Pass it to Cosmos as `ProjectConfig(env_vars=...)` (or `operator_args={"env": ...}`) so
    that `dbt deps`, `dbt ls` and every task resolve the package path.
    """
    return {variable: str(dbt_package_path())}
