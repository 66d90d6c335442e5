"""The generated dbt macros are what the Python vocabulary renders today."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

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


def _copy(tmp_path: Path) -> list[str]:
    """The generated files and the pages with generated blocks, copied under tmp_path."""
    script = _script()
    shutil.copytree(ROOT / "macros" / "generated", tmp_path / "macros" / "generated")
    pages = sorted(script.DOC_BLOCKS)
    for page in pages:
        (tmp_path / page).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / page, tmp_path / page)
    return pages


def test_a_stale_or_stray_file_is_reported(tmp_path: Path) -> None:
    """The check can fail: a hand-edited generated file and a stray one are both named."""
    script = _script()
    _copy(tmp_path)
    copy = tmp_path / "macros" / "generated"
    page = tmp_path / "docs" / "roles-and-grants.md"
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


def test_the_docs_tables_are_generated_and_checked(tmp_path: Path) -> None:
    """docs/health.md's rules table and the configuration reference are rendered from the
    vocabulary: an edited row is reported, and regenerating puts it back; the prose around
    the block is the page's own."""
    script = _script()
    pages = _copy(tmp_path)
    assert pages == [
        "docs/airflow/operators.md",
        "docs/health.md",
        "docs/reference/configuration.md",
        "docs/roles-and-grants.md",
    ]
    health = tmp_path / "docs" / "health.md"
    original = health.read_text(encoding="utf-8")
    assert "| 2 | the fuse is blown" in original
    health.write_text(original.replace("| failed |", "| waiting |", 1), encoding="utf-8")
    assert script.stale_files(tmp_path) == ["docs/health.md"]
    assert script.rendered_docs(tmp_path)["docs/health.md"] == original
    health.write_text(original.replace("<!-- END GENERATED -->", ""), encoding="utf-8")
    with pytest.raises(SystemExit, match=r"docs/health\.md: expected one block"):
        script.stale_files(tmp_path)
