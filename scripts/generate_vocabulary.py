"""Regenerate what is rendered from `airflow_provider_pgtrickle/vocabulary`: the dbt macros in
macros/generated/ and the generated blocks of the docs pages (the configuration reference's
tables, the health rules table, the grants per version and part).

python scripts/generate_vocabulary.py          # rewrite them
python scripts/generate_vocabulary.py --check  # exit 1 when one is stale or stray (CI runs it)

A docs page keeps its prose; only the text between `<!-- BEGIN GENERATED: <source> -->` and
`<!-- END GENERATED -->` is replaced.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from airflow_provider_pgtrickle.vocabulary import (  # noqa: E402
    config,
    grants,
    health,
)
from airflow_provider_pgtrickle.vocabulary._jinja import GENERATED_DIR  # noqa: E402


def generated_macros() -> dict[str, str]:
    """Every generated dbt macro file: path relative to the repository root -> content."""
    files: dict[str, str] = {}
    for module in (config, health):
        files.update(module.jinja_macros())
    return files


# Page -> (the source its marker names, what renders the block).
DOC_BLOCKS: dict[str, tuple[str, Callable[[], str]]] = {
    "docs/reference/configuration.md": (
        "vocabulary/config.py reference_markdown()",
        config.reference_markdown,
    ),
    "docs/health.md": ("vocabulary/health.py rules_markdown()", health.rules_markdown),
    grants.DOC_PATH: ("vocabulary/grants.py reference_markdown()", grants.reference_markdown),
}


def _block(source: str) -> re.Pattern[str]:
    return re.compile(
        rf"(<!-- BEGIN GENERATED: {re.escape(source)} -->\n)(.*?)(<!-- END GENERATED -->)", re.S
    )


def rendered_docs(root: Path = ROOT) -> dict[str, str]:
    """Every page with a generated block: path -> the page with its block rendered today.
    A page without its marker is an error (the block would silently stop being checked)."""
    pages: dict[str, str] = {}
    for path, (source, render) in DOC_BLOCKS.items():
        text = (root / path).read_text(encoding="utf-8")
        block = _block(source)
        if len(block.findall(text)) != 1:
            raise SystemExit(
                f"{path}: expected one block between `<!-- BEGIN GENERATED: {source} -->` and "
                "`<!-- END GENERATED -->`; put the markers back where the table goes."
            )
        match = block.search(text)
        assert match is not None
        pages[path] = text[: match.start(2)] + render() + text[match.end(2) :]
    return pages


def stale_files(root: Path = ROOT) -> list[str]:
    """Paths whose content differs from what the vocabulary renders, plus stray files."""
    wanted = {**generated_macros(), **rendered_docs(root)}
    stale = [
        p
        for p, text in wanted.items()
        if not (root / p).is_file() or (root / p).read_text(encoding="utf-8") != text
    ]
    present = {f"{GENERATED_DIR}/{f.name}" for f in (root / GENERATED_DIR).glob("*.sql")}
    return sorted(stale + sorted(present - set(generated_macros())))


def main(argv: list[str]) -> int:
    if "--check" in argv:
        stale = stale_files()
        for path in stale:
            print(f"stale: {path}")
        if stale:
            print("run: python scripts/generate_vocabulary.py")
        return 1 if stale else 0
    macros = generated_macros()
    (ROOT / GENERATED_DIR).mkdir(parents=True, exist_ok=True)
    for stray in (ROOT / GENERATED_DIR).glob("*.sql"):
        if f"{GENERATED_DIR}/{stray.name}" not in macros:
            stray.unlink()
    for path, text in {**macros, **rendered_docs()}.items():
        if not (ROOT / path).is_file() or (ROOT / path).read_text(encoding="utf-8") != text:
            (ROOT / path).write_text(text, encoding="utf-8")
            print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
