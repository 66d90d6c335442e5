"""One log and error prefix, `pg_trickle:` (the extension's name), in every macro and module."""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
# Spelled in two parts so this file does not match itself.
OLD_PREFIX = "pg-" + "trickle:"
SKIPPED_DIRS = {".git", ".venv", "dbt_packages", "target", "site", "logs", "__pycache__"}


def _sources() -> list[Path]:
    found = []
    for folder, dirs, files in os.walk(REPO_ROOT):
        dirs[:] = [d for d in dirs if d not in SKIPPED_DIRS and not d.startswith(".venv")]
        found += [Path(folder, f) for f in files if f.endswith((".py", ".sql"))]
    return found


def test_no_old_log_prefix() -> None:
    sources = _sources()
    assert any(p.parts[-2] == "operations" for p in sources)  # the walk found the macros
    offending = sorted(
        f"{path.relative_to(REPO_ROOT)}:{number}"
        for path in sources
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if OLD_PREFIX in line
    )
    assert not offending, f"write `pg_trickle:` instead of `{OLD_PREFIX}` in:\n" + "\n".join(
        offending
    )
