"""Regenerate the dbt macros and doc blocks rendered from `airflow_provider_pgtrickle/vocabulary`.

python scripts/generate_vocabulary.py          # rewrite macros/generated/
python scripts/generate_vocabulary.py --check  # exit 1 when a file is stale or stray
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from airflow_provider_pgtrickle.vocabulary import generated_macros, grants  # noqa: E402
from airflow_provider_pgtrickle.vocabulary._jinja import GENERATED_DIR  # noqa: E402

# Pages with a block rendered from the vocabulary: path -> render function.
_DOC_BLOCKS = {grants.DOC_PATH: grants.reference_markdown}
_BLOCK = re.compile(r"(<!-- BEGIN GENERATED: [^>]*-->\n)(.*?)(<!-- END GENERATED -->)", re.S)


def _rendered_page(path: Path, block: str) -> str | None:
    """The page with its generated block replaced (None: no such page or no block)."""
    if not path.is_file():
        return None
    text = path.read_text(encoding="utf-8")
    match = _BLOCK.search(text)
    if match is None:
        return None
    return text[: match.start(2)] + block + text[match.end(2) :]


def stale_files(root: Path = ROOT) -> list[str]:
    """Paths whose content differs from what the vocabulary renders, plus stray files."""
    wanted = generated_macros()
    stale = [
        p
        for p, text in wanted.items()
        if not (root / p).is_file() or (root / p).read_text(encoding="utf-8") != text
    ]
    present = {f"{GENERATED_DIR}/{f.name}" for f in (root / GENERATED_DIR).glob("*.sql")}
    for page, render in _DOC_BLOCKS.items():
        rendered = _rendered_page(root / page, render())
        if rendered is None or rendered != (root / page).read_text(encoding="utf-8"):
            stale.append(page)
    return sorted(stale + sorted(present - set(wanted)))


def main(argv: list[str]) -> int:
    if "--check" in argv:
        stale = stale_files()
        for path in stale:
            print(f"stale: {path}")
        if stale:
            print("run: python scripts/generate_vocabulary.py")
        return 1 if stale else 0
    wanted = generated_macros()
    (ROOT / GENERATED_DIR).mkdir(parents=True, exist_ok=True)
    for stray in (ROOT / GENERATED_DIR).glob("*.sql"):
        if f"{GENERATED_DIR}/{stray.name}" not in wanted:
            stray.unlink()
    for path, text in wanted.items():
        (ROOT / path).write_text(text, encoding="utf-8")
        print(f"wrote {path}")
    for page, render in _DOC_BLOCKS.items():
        rendered = _rendered_page(ROOT / page, render())
        if rendered is None:
            print(f"{page}: no `<!-- BEGIN GENERATED: ... -->` block to fill")
            return 1
        (ROOT / page).write_text(rendered, encoding="utf-8")
        print(f"wrote {page}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
