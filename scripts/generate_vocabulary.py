"""Regenerate the dbt macros rendered from `airflow_provider_pgtrickle/vocabulary`.

python scripts/generate_vocabulary.py          # rewrite macros/generated/
python scripts/generate_vocabulary.py --check  # exit 1 when a file is stale or stray
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from airflow_provider_pgtrickle.vocabulary import generated_macros  # noqa: E402
from airflow_provider_pgtrickle.vocabulary._jinja import GENERATED_DIR  # noqa: E402


def stale_files(root: Path = ROOT) -> list[str]:
    """Paths whose content differs from what the vocabulary renders, plus stray files."""
    wanted = generated_macros()
    stale = [
        p
        for p, text in wanted.items()
        if not (root / p).is_file() or (root / p).read_text(encoding="utf-8") != text
    ]
    present = {f"{GENERATED_DIR}/{f.name}" for f in (root / GENERATED_DIR).glob("*.sql")}
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
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
