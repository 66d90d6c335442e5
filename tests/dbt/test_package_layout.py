"""The dbt package's conventions, checked on the files (no database, no dbt run)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml  # type: ignore[import-untyped]

REPO_ROOT = Path(__file__).resolve().parents[2]
MACROS = sorted((REPO_ROOT / "macros").rglob("*.sql"))
# names users of the upstream dbt-pgtrickle package run as operations
UPSTREAM_ALIASES = {
    "refresh_all_stream_tables",
    "drop_all_stream_tables",
    "drop_all_stream_tables_force",
}
BLOCK = re.compile(r"\{%-?\s*(macro|materialization|test)\s+(\w+)")


def test_dbt_project_is_the_package() -> None:
    project = yaml.safe_load((REPO_ROOT / "dbt_project.yml").read_text(encoding="utf-8"))
    assert project["name"] == "dbt_pg_trickle"
    assert project["macro-paths"] == ["macros"]
    assert ">=1.9.0" in project["require-dbt-version"]


@pytest.mark.parametrize("path", MACROS, ids=lambda p: p.name)
def test_one_documented_macro_per_file_named_after_it(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    blocks = BLOCK.findall(text)
    assert len(blocks) == 1, f"{path.name}: one macro per file, found {blocks}"
    kind, name = blocks[0]
    assert text.lstrip().startswith("{#"), f"{path.name}: starts with a docblock"
    if kind == "materialization":
        assert (name, path.stem) == ("stream_table", "stream_table")
        return
    assert path.stem == name
    assert name.startswith("pgtrickle_") or name in UPSTREAM_ALIASES


def test_generic_test_is_documented() -> None:
    text = (REPO_ROOT / "tests" / "generic" / "stream_table_healthy.sql").read_text("utf-8")
    assert BLOCK.findall(text) == [("test", "stream_table_healthy")]
    assert text.lstrip().startswith("{#")


def test_pgtrickle_functions_are_called_only_through_the_adapter_macros() -> None:
    # hints in messages ("run `select pgtrickle.resume_stream_table('x')`") are not calls
    call = re.compile(r"pgtrickle\.(create_\w+|alter_\w+|drop_\w+|refresh_\w+|resume_\w+)\((?!')")
    for path in MACROS:
        text = path.read_text(encoding="utf-8")
        if path.name != "pgtrickle_get_call_sql.sql":
            assert not call.search(text), f"{path.name} writes a pgtrickle call itself"


def test_package_macros_call_each_other_qualified() -> None:
    """Unqualified calls fail when a package macro runs in a root-project node's context."""
    names = {path.stem for path in MACROS}
    for path in [*MACROS, REPO_ROOT / "tests" / "generic" / "stream_table_healthy.sql"]:
        code = re.sub(r"\{#.*?#\}", "", path.read_text(encoding="utf-8"), flags=re.S)
        code = BLOCK.sub("", code)
        for match in re.finditer(r"(?<![\w.])(\w+)\(", code):
            assert match.group(1) not in names, f"{path.name}: call {match.group(1)} qualified"


OPERATIONS = REPO_ROOT / "macros" / "operations"
OPERATION_DOCS = ("docs/dbt/operations.md", "docs/dbt-upstream-compat.md")


def _calls(path: Path) -> set[str]:
    """Package macros ``path`` calls (by their qualified name; see the test above)."""
    code = re.sub(r"\{#.*?#\}", "", path.read_text(encoding="utf-8"), flags=re.S)
    return set(re.findall(r"dbt_pg_trickle\.(\w+)\(", code))


def test_operations_hold_only_run_operation_entry_points() -> None:
    """macros/operations/ is what users run; helpers live elsewhere (macros/utils/...)."""
    docs = "".join((REPO_ROOT / doc).read_text(encoding="utf-8") for doc in OPERATION_DOCS)
    operations = {path.stem: path for path in OPERATIONS.glob("*.sql")}
    problems = []
    for name, path in sorted(operations.items()):
        docblock = path.read_text(encoding="utf-8").split("#}", 1)[0]
        if "run-operation" not in docblock:
            problems.append(f"{name}: its docblock does not describe it as a run-operation")
        if f"`{name}" not in docs and f"run-operation {name}" not in docs:
            problems.append(f"{name}: not documented in {' or '.join(OPERATION_DOCS)}")
    # An entry point may delegate to another (an alias, a forced variant); any other macro that
    # needs one's logic needs a helper instead.
    for path in MACROS:
        if path.parent == OPERATIONS:
            continue
        for name in sorted(_calls(path) & set(operations)):
            problems.append(f"{path.relative_to(REPO_ROOT)} calls entry point {name}: a helper")
    assert not problems, "\n".join(problems)
