"""The built docs site shows the code its pages include.

Pages pull the tested example DAGs in with snippet includes (``--8<-- "file:section"``). An
include that is mangled (a formatter once rewrote them to ``--8 < --"..."``) or unknown to the
build is not an error for mkdocs: the page just shows the directive as text. So the site is
built here (``mkdocs build --strict``, as CI does) and every page that includes something is
read back as HTML: the included code must be in it, and no include directive may be left.
"""

from __future__ import annotations

import html
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import markdown
import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"

# A snippet include as written (`--8<-- "path"` or `--8<-- "path:section"`), and the shapes a
# formatter or a stray space makes of it: any of them in a page's source is an include the
# page means to show.
INCLUDE = re.compile(r'^[ \t]*-+[ \t]*8[ \t]*<[ \t]*-+[ \t]*"(?P<target>[^"]+)"[ \t]*$', re.M)
# What is left of an include in rendered text when it was not expanded.
LEFTOVER = re.compile(r"-+\s*8\s*<\s*-+")
FENCE = re.compile(r"^[ \t]*```", re.M)


@dataclass(frozen=True)
class Include:
    target: str  # "path" or "path:section", relative to the repository root
    in_code_block: bool

    @property
    def path(self) -> Path:
        return ROOT / self.target.split(":", 1)[0]

    @property
    def section(self) -> str | None:
        parts = self.target.split(":", 1)
        return parts[1] if len(parts) == 2 else None


def includes(source: str) -> list[Include]:
    found = []
    for match in INCLUDE.finditer(source):
        fences_before = len(FENCE.findall(source, 0, match.start()))
        found.append(Include(match["target"], in_code_block=fences_before % 2 == 1))
    return found


def included_text(include: Include) -> str:
    """What the include should put on the page: the file, or the lines between its
    ``--8<-- [start:section]`` and ``--8<-- [end:section]`` markers."""
    if not include.path.is_file():
        raise AssertionError(f"{include.target}: {include.path} does not exist")
    lines = include.path.read_text(encoding="utf-8").splitlines()
    if include.section is None:
        return "\n".join(lines)
    start = [i for i, line in enumerate(lines) if f"[start:{include.section}]" in line]
    end = [i for i, line in enumerate(lines) if f"[end:{include.section}]" in line]
    if len(start) != 1 or len(end) != 1 or end[0] <= start[0]:
        raise AssertionError(f"{include.target}: no single section {include.section!r}")
    return "\n".join(lines[start[0] + 1 : end[0]])


def _text(fragment: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", fragment))


def _words(text: str) -> str:
    return " ".join(text.split())


def problems(source: str, page_html: str) -> list[str]:
    """Why the rendered page does not show what its source includes ([] when it does)."""
    found: list[str] = []
    codes = [
        _words(_text(code)) for code in re.findall(r"<code[^>]*>(.*?)</code>", page_html, re.S)
    ]
    body = _words(_text(page_html))
    for include in includes(source):
        wanted = included_text(include)
        if include.in_code_block:
            if not any(_words(wanted) in code for code in codes):
                found.append(f"{include.target}: the included code is not on the page")
        else:
            # Markdown included as Markdown (the changelog): its first heading is on the page.
            heading = next((line for line in wanted.splitlines() if line.startswith("#")), "")
            if _words(heading.lstrip("#")) not in body:
                found.append(f"{include.target}: the included text is not on the page")
    leftovers = LEFTOVER.findall(body)
    if leftovers:
        found.append(f"an include directive is shown as text: {leftovers[0]!r}")
    return found


PAGES = sorted(p for p in DOCS.rglob("*.md") if includes(p.read_text(encoding="utf-8")))


def built_page(site: Path, page: Path) -> Path:
    relative = page.relative_to(DOCS).with_suffix("")
    if relative.name == "index":
        return site / relative.parent / "index.html"
    return site / relative / "index.html"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    build = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert build.returncode == 0, build.stdout + build.stderr
    return out


def test_the_pages_with_example_code_are_found() -> None:
    names = {str(p.relative_to(DOCS)) for p in PAGES}
    assert {"airflow/operators.md", "airflow/sensor.md", "cosmos.md", "changelog.md"} <= names


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(DOCS)))
def test_every_included_example_is_on_the_built_page(site: Path, page: Path) -> None:
    built = built_page(site, page).read_text(encoding="utf-8")
    assert problems(page.read_text(encoding="utf-8"), built) == []


def test_no_built_page_shows_an_include_directive(site: Path) -> None:
    shown = [
        str(path.relative_to(site))
        for path in site.rglob("*.html")
        if LEFTOVER.search(_text(path.read_text(encoding="utf-8")))
    ]
    assert shown == []


def _render(source: str) -> str:
    """A page rendered with the site's Markdown extensions for includes (mkdocs.yml)."""
    return markdown.markdown(
        source,
        extensions=["pymdownx.highlight", "pymdownx.superfences", "pymdownx.snippets"],
        extension_configs={"pymdownx.snippets": {"base_path": [str(ROOT)], "check_paths": True}},
    )


def test_the_check_passes_an_include_and_fails_the_mangled_form() -> None:
    good = '```python\n--8<-- "dags/pgtrickle_operators_example.py:sensor"\n```\n'
    assert problems(good, _render(good)) == []
    mangled = '```python\n--8 < --"dags/pgtrickle_operators_example.py:sensor"\n```\n'
    assert problems(mangled, _render(mangled)) == [
        "dags/pgtrickle_operators_example.py:sensor: the included code is not on the page",
        "an include directive is shown as text: '--8 < --'",
    ]
