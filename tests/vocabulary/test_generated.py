"""The generated dbt macros are what the Python vocabulary renders today."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "generate_vocabulary.py"


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("generate_vocabulary", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generated_macros_are_fresh() -> None:
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--check"], check=False, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_stale_or_stray_file_is_reported(tmp_path: Path) -> None:
    """The check can fail: a hand-edited generated file and a stray one are both named."""
    script = _script()
    copy = tmp_path / "macros" / "generated"
    shutil.copytree(ROOT / "macros" / "generated", copy)
    (tmp_path / "docs").mkdir()
    page = tmp_path / "docs" / "roles-and-grants.md"
    shutil.copy(ROOT / "docs" / "roles-and-grants.md", page)
    assert script.stale_files(tmp_path) == []
    # A grant edited by hand in the page's generated block is stale too.
    page.write_text(
        page.read_text(encoding="utf-8").replace("GRANT USAGE ON SCHEMA pgtrickle TO app;", ""),
        encoding="utf-8",
    )
    assert script.stale_files(tmp_path) == ["docs/roles-and-grants.md"]
    shutil.copy(ROOT / "docs" / "roles-and-grants.md", page)
    edited = sorted(copy.glob("*.sql"))[0]
    edited.write_text(edited.read_text(encoding="utf-8") + "\n-- edited\n", encoding="utf-8")
    (copy / "pgtrickle_stray.sql").write_text("", encoding="utf-8")
    assert script.stale_files(tmp_path) == [
        f"macros/generated/{edited.name}",
        "macros/generated/pgtrickle_stray.sql",
    ]
