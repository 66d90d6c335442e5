"""The provider's layout, measured: import circles, the import direction, long modules and
long functions. `tests/test_layout.py` keeps the first two; the rest is reported.

    python scripts/layout.py            # the report (exit 0)
    python scripts/layout.py --check    # exit 1 on an import circle or a direction breach

Everything is read from the source with `ast`; nothing is imported or run. The layers are
described in CONTRIBUTING.md ("Layout and import direction"):

- the **core** (the vocabulary and the modules in `CORE`) talks to pg_trickle without Airflow:
  it imports no Airflow (nor Cosmos, dbt or FastAPI) and, of the package, only the core and
  `exceptions` (the one module whose classes are Airflow's, so Airflow does not retry them);
- the **Airflow layer** (every other module at the root and in hooks/, operators/, sensors/,
  triggers/) builds on the core;
- **beside** them, `cosmos/`, `ui/` and `testing/` may use both, never each other, and
  nothing else in the package imports them.
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "airflow_provider_pgtrickle"

#: Airflow-free modules at the package root (the vocabulary is core as a whole). A new
#: module that needs no Airflow belongs here; any other root module is the Airflow layer.
CORE = frozenset(
    {
        "_caught_up",
        "_connect",
        "_connection_failures",
        "_health",
        "_privileges",
        "_sql",
        "_validation",
        "capabilities",
        "types",
    }
)
#: Package modules the core may import beyond itself.
CORE_MAY_IMPORT = frozenset({"exceptions"})
#: Third-party top-level packages the core may not import.
NOT_IN_CORE = frozenset({"airflow", "cosmos", "dbt", "fastapi", "starlette", "pytest"})
#: Folders that sit beside the Airflow layer.
BESIDE = frozenset({"cosmos", "ui", "testing"})

MAX_MODULE_LINES = 500
MAX_FUNCTION_LINES = 60


@dataclass(frozen=True)
class Import:
    """One import statement's target, as seen from the module that holds it."""

    importer: str  # dotted module name
    target: str  # dotted name: a package module, or a third-party module
    line: int
    kind: str  # "module" (runs on import), "deferred" (inside a function), "typing"


def modules(package: Path) -> dict[str, Path]:
    """Dotted name -> file of every module of ``package`` (a package is its __init__)."""
    found: dict[str, Path] = {}
    for path in sorted(package.rglob("*.py")):
        parts = list(path.relative_to(package.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _statements(body: list[ast.stmt], kind: str) -> Iterator[tuple[ast.stmt, str]]:
    """Every statement with how its imports run: on import, only for type checkers, or
    when a function is called."""
    for node in body:
        yield node, kind
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield from _statements(node.body, "deferred")
        elif isinstance(node, ast.ClassDef):
            yield from _statements(node.body, kind)
        elif isinstance(node, ast.If):
            inner = "typing" if _is_type_checking(node.test) else kind
            yield from _statements(node.body, inner)
            yield from _statements(node.orelse, kind)
        elif isinstance(node, ast.Try):
            for block in (node.body, node.orelse, node.finalbody):
                yield from _statements(block, kind)
            for handler in node.handlers:
                yield from _statements(handler.body, kind)
        elif isinstance(node, (ast.With, ast.For, ast.While)):
            yield from _statements(node.body, kind)


def imports(package: Path) -> list[Import]:
    """Every import in ``package``; a package's own modules resolved to module names."""
    known = modules(package)
    root = package.name
    found: list[Import] = []
    for name, path in known.items():
        is_package = path.name == "__init__.py"
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node, kind in _statements(tree.body, "module"):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:  # relative: resolve against this module's package
                    anchor = name.split(".")
                    anchor = anchor[: len(anchor) - node.level + (1 if is_package else 0)]
                    base = ".".join([*anchor, base] if base else anchor)
                for alias in node.names:
                    # `from pkg import module` imports the module; `from module import name`
                    # imports the module that holds the name.
                    full = f"{base}.{alias.name}"
                    targets.append(full if full in known else base)
            for dotted in targets:
                target = dotted
                if target == root or target.startswith(root + "."):
                    while target not in known:
                        target = target.rsplit(".", 1)[0]
                    if target == name:
                        continue
                found.append(Import(name, target, node.lineno, kind))
    return found


def graph(found: list[Import], kinds: frozenset[str]) -> dict[str, set[str]]:
    """The package's own import edges of the given kinds (importing ``a.b.c`` also runs
    ``a/__init__`` and ``a/b/__init__``, which are edges too)."""
    edges: dict[str, set[str]] = {}
    root = found[0].importer.split(".")[0] if found else ""
    for imp in found:
        edges.setdefault(imp.importer, set())
        if imp.kind not in kinds or not imp.target.startswith(root):
            continue
        parts = imp.target.split(".")
        for end in range(2, len(parts) + 1):  # parents below the root, then the target
            target = ".".join(parts[:end])
            if target != imp.importer and not imp.importer.startswith(target + "."):
                edges[imp.importer].add(target)
    return edges


def circles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(edges.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group: list[str] = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return sorted(found)


def layer(module: str) -> str:
    """``core``, ``airflow`` or the folder beside them (``cosmos``, ``ui``, ``testing``)."""
    parts = module.split(".")[1:]
    if not parts:
        return "airflow"  # the package's __init__
    if parts[0] == "vocabulary" or (len(parts) == 1 and parts[0] in CORE):
        return "core"
    if parts[0] in BESIDE:
        return parts[0]
    return "airflow"


def direction_breaches(found: list[Import]) -> list[str]:
    """Imports (of any kind: deferred and typing-only ones too) against the direction rule."""
    breaches: list[str] = []
    for imp in found:
        source = layer(imp.importer)
        root = imp.importer.split(".")[0]
        own = imp.target.startswith(root)
        where = f"{imp.importer}:{imp.line} imports {imp.target}"
        if not own:
            if source == "core" and imp.target.split(".")[0] in NOT_IN_CORE:
                breaches.append(f"{where}: the core imports no Airflow, Cosmos, dbt or FastAPI")
            continue
        target = layer(imp.target)
        short = imp.target.split(".", 1)[-1]
        if source == "core" and target != "core" and short not in CORE_MAY_IMPORT:
            breaches.append(f"{where}: the core imports only the core and `exceptions`")
        elif source in ("core", "airflow") and target in BESIDE:
            breaches.append(f"{where}: nothing in the core or the Airflow layer imports {target}/")
        elif source in BESIDE and target in BESIDE and target != source:
            breaches.append(f"{where}: {source}/ and {target}/ sit beside, never import each other")
    return breaches


@dataclass(frozen=True)
class Length:
    where: str
    lines: int


def long_modules(package: Path, limit: int = MAX_MODULE_LINES) -> list[Length]:
    """Python modules over ``limit`` lines, longest first."""
    rows = [
        Length(str(path.relative_to(package.parent)), len(path.read_text().splitlines()))
        for path in package.rglob("*.py")
    ]
    return sorted((r for r in rows if r.lines > limit), key=lambda r: -r.lines)


def long_functions(package: Path, limit: int = MAX_FUNCTION_LINES) -> list[Length]:
    """Functions and methods over ``limit`` lines (``def`` to last line), longest first."""
    rows: list[Length] = []
    for path in sorted(package.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                lines = (node.end_lineno or node.lineno) - node.lineno + 1
                if lines > limit:
                    where = f"{path.relative_to(package.parent)}:{node.lineno} {node.name}"
                    rows.append(Length(where, lines))
    return sorted(rows, key=lambda r: (-r.lines, r.where))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 on a circle or breach")
    parser.add_argument("--package", type=Path, default=PACKAGE)
    args = parser.parse_args(argv)
    found = imports(args.package)
    on_import = circles(graph(found, frozenset({"module"})))
    with_deferred = circles(graph(found, frozenset({"module", "deferred"})))
    breaches = direction_breaches(found)
    print(f"import circles (module level): {len(on_import)}")
    for group in on_import:
        print("  " + " <-> ".join(group))
    print(f"import circles (with imports inside functions): {len(with_deferred)}")
    for group in with_deferred:
        print("  " + " <-> ".join(group))
    print(f"import direction breaches: {len(breaches)}")
    for breach in breaches:
        print("  " + breach)
    big = long_modules(args.package)
    print(f"modules over {MAX_MODULE_LINES} lines: {len(big)}")
    for row in big:
        print(f"  {row.lines:5d}  {row.where}")
    longs = long_functions(args.package)
    print(f"functions over {MAX_FUNCTION_LINES} lines: {len(longs)}")
    for row in longs:
        print(f"  {row.lines:5d}  {row.where}")
    return 1 if args.check and (on_import or breaches) else 0


if __name__ == "__main__":
    sys.exit(main())
