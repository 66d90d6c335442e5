"""Drive the integration dbt project as a user would: the `dbt` CLI in a subprocess.

The project is copied into a temporary directory per test module, with `packages.yml`
pointing at this repository by absolute path, so `target/`, `logs/` and `dbt_packages/` never
land in the source tree.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from airflow_provider_pgtrickle.testing.server import TestDatabase

REPO_ROOT = Path(__file__).resolve().parents[2]
INTEGRATION_PROJECT = REPO_ROOT / "integration_tests"

# The calls that change a stream table; reads (catalog queries, check_cdc_health, ...) are not.
MUTATING_CALL = re.compile(
    r"pgtrickle\.(create_stream_table|create_stream_table_if_not_exists|"
    r"create_or_replace_stream_table|alter_stream_table|drop_stream_table|"
    r"refresh_stream_table|resume_stream_table|pause_stream_table)\s*\("
)


def dbt_executable() -> list[str]:
    """The dbt CLI to test with: `$PGTRICKLE_DBT` (e.g. a dbt 1.9 venv's `bin/dbt`), else the
    one installed next to the interpreter running the tests."""
    override = os.environ.get("PGTRICKLE_DBT")
    if override:
        return [override]
    candidate = Path(sys.executable).with_name("dbt")
    if candidate.exists():
        return [str(candidate)]
    return [sys.executable, "-m", "dbt.cli.main"]


@dataclass(frozen=True)
class DbtResult:
    """One finished dbt invocation."""

    args: tuple[str, ...]
    returncode: int
    output: str
    results: tuple[dict[str, Any], ...]

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    def messages(self) -> dict[str, str]:
        """Model name -> run result message (the materialization's outcome)."""
        return {
            r["unique_id"].split(".")[-1]: r.get("message") or ""
            for r in self.results
            if r["unique_id"].startswith("model.")
        }

    def statuses(self, prefix: str = "") -> dict[str, str]:
        """unique_id -> status, for the nodes whose unique_id starts with `prefix`."""
        return {
            r["unique_id"]: r["status"] for r in self.results if r["unique_id"].startswith(prefix)
        }


class DbtProject:
    """A private copy of integration_tests/ bound to one database."""

    def __init__(self, path: Path, env: dict[str, str]) -> None:
        self.path = path
        self.env = env

    @classmethod
    def create(
        cls, tmp_dir: Path, dbt_env: dict[str, str], source: Path = INTEGRATION_PROJECT
    ) -> DbtProject:
        """Copy the dbt project at `source` (default: integration_tests/) into `tmp_dir`."""
        path = tmp_dir / source.name
        shutil.copytree(
            source,
            path,
            ignore=shutil.ignore_patterns("target", "logs", "dbt_packages", "package-lock.yml"),
        )
        (path / "packages.yml").write_text(
            f"packages:\n  - local: {json.dumps(str(REPO_ROOT))}\n", encoding="utf-8"
        )
        env = {k: v for k, v in os.environ.items() if not k.startswith("DBT_")}
        env.update(dbt_env)
        env.update(
            {
                "DBT_PROFILES_DIR": str(path),
                "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
                "DBT_VERSION_CHECK": "False",
                "DO_NOT_TRACK": "1",
                "DBT_USE_COLORS": "False",
                "DBT_PARTIAL_PARSE": "True",
            }
        )
        return cls(path, env)

    def dbt(self, *args: str, expect_ok: bool | None = True) -> DbtResult:
        """Run `dbt <args>` in the project; expect_ok None accepts any exit code."""
        run_results = self.path / "target" / "run_results.json"
        run_results.unlink(missing_ok=True)
        proc = subprocess.run(
            [*dbt_executable(), *args, "--profiles-dir", str(self.path)],
            cwd=self.path,
            env=self.env,
            capture_output=True,
            text=True,
            check=False,
        )
        output = proc.stdout + proc.stderr
        results: tuple[dict[str, Any], ...] = ()
        if run_results.exists():
            results = tuple(json.loads(run_results.read_text(encoding="utf-8"))["results"])
        result = DbtResult(tuple(args), proc.returncode, output, results)
        if expect_ok is not None and result.ok != expect_ok:
            verb = "failed" if expect_ok else "unexpectedly succeeded"
            raise AssertionError(f"dbt {' '.join(args)} {verb}:\n{output}")
        return result

    def write(self, relative: str, text: str) -> None:
        target = self.path / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")

    def edit(self, relative: str, old: str, new: str) -> None:
        target = self.path / relative
        text = target.read_text(encoding="utf-8")
        if old not in text:
            raise AssertionError(f"{old!r} not found in {relative}")
        target.write_text(text.replace(old, new), encoding="utf-8")

    def remove(self, relative: str) -> None:
        (self.path / relative).unlink()

    # The project's own files, as opposed to what dbt writes (target/, logs/, dbt_packages/).
    SOURCE_DIRS = ("models", "seeds", "tests", "macros")

    def sources(self) -> dict[str, str]:
        """Every file of the project's source folders: relative path -> text."""
        return {
            str(file.relative_to(self.path)): file.read_text(encoding="utf-8")
            for folder in self.SOURCE_DIRS
            if (self.path / folder).is_dir()
            for file in sorted((self.path / folder).rglob("*"))
            if file.is_file()
        }

    def restore(self, sources: dict[str, str]) -> list[str]:
        """Put the source folders back as `sources` (from `sources()`) has them: edited files
        rewritten, added ones removed. Returns the paths it changed."""
        changed = []
        for relative, text in self.sources().items():
            if relative not in sources:
                (self.path / relative).unlink()
                changed.append(relative)
            elif text != sources[relative]:
                (self.path / relative).write_text(sources[relative], encoding="utf-8")
                changed.append(relative)
        for relative, text in sources.items():
            if not (self.path / relative).exists():
                self.write(relative, text)
                changed.append(relative)
        return sorted(changed)


def drop_every_stream_table(db: TestDatabase) -> None:
    """Empty pg_trickle's catalog, whoever created the tables (cheaper than a dbt operation).
    As the superuser: pg_trickle 0.96+ grants no other role SELECT on its catalog."""
    with db.admin_connect() as conn:
        while True:
            row = conn.execute(
                "select pgt_schema || '.' || pgt_name from pgtrickle.pgt_stream_tables"
                " order by pgt_id limit 1"
            ).fetchone()
            if row is None:
                return
            conn.execute('select pgtrickle.drop_stream_table(name => %s, "cascade" => true)', row)


def deploy(project: DbtProject, db: TestDatabase, *, seeds: bool = True) -> DbtResult:
    """Drop every stream table (the project's or not), reload the seeds (unless told not to),
    run every model."""
    drop_every_stream_table(db)
    if seeds:
        project.dbt("seed", "--full-refresh")
    return project.dbt("run")


@dataclass(frozen=True)
class Deployed:
    """A module's starting point: its project as copied, seeded and run once.

    ``read_state`` is the module's own `state(db)`: what a test may change and the next one
    would notice, as ``(catalog, seeds)``; the seeds are reloaded only when they differ.
    """

    run: DbtResult  # the first `dbt run`
    sources: dict[str, str]
    state: tuple[Any, ...]
    read_state: Callable[[TestDatabase], tuple[Any, ...]]

    @classmethod
    def first(
        cls,
        project: DbtProject,
        db: TestDatabase,
        read_state: Callable[[TestDatabase], tuple[Any, ...]],
    ) -> Deployed:
        """Deploy the project (for the module's `deployed` fixture)."""
        sources = project.sources()
        run = deploy(project, db)
        return cls(run, sources, read_state(db), read_state)

    def restore(self, project: DbtProject, db: TestDatabase) -> None:
        """Put the project's files back and, when a test left the catalog or the seeds
        changed, deploy again (for the module's autouse `baseline` fixture)."""
        project.restore(self.sources)
        now = self.read_state(db)
        if now != self.state:
            # the seeds are reloaded only when a test changed them (one dbt call less)
            deploy(project, db, seeds=now[1] != self.state[1])
            assert self.read_state(db) == self.state
