"""The package keeps its shape: no import circle, and imports point the way CONTRIBUTING.md
says ("Layout and import direction"). The checker is `scripts/layout.py`; it reads the
source with `ast`, so these tests import nothing of the package."""

from __future__ import annotations

import importlib.util
import sys
import textwrap
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "layout.py"


@pytest.fixture(scope="module")
def layout() -> ModuleType:
    spec = importlib.util.spec_from_file_location("pgtrickle_layout", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while being built
    spec.loader.exec_module(module)
    return module


def _package(root: Path, files: dict[str, str]) -> Path:
    """A throwaway package ``pkg`` under ``root`` with the given modules."""
    package = root / "pkg"
    for name, text in {"__init__.py": "", **files}.items():
        path = package / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.name != "__init__.py" and not (path.parent / "__init__.py").exists():
            (path.parent / "__init__.py").write_text("")
        path.write_text(textwrap.dedent(text))
    return package


def _module_circles(layout: ModuleType, package: Path) -> list[list[str]]:
    return layout.circles(layout.graph(layout.imports(package), frozenset({"module"})))


def test_the_package_has_no_import_circle(layout: ModuleType) -> None:
    assert _module_circles(layout, layout.PACKAGE) == []


def test_imports_point_the_way_contributing_says(layout: ModuleType) -> None:
    assert layout.direction_breaches(layout.imports(layout.PACKAGE)) == []


def test_the_core_is_what_contributing_names(layout: ModuleType) -> None:
    # The checker's list of Airflow-free modules is the one the contributors' guide shows,
    # and each of them exists.
    guide = (ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8")
    for name in sorted(layout.CORE):
        assert (layout.PACKAGE / f"{name}.py").is_file(), name
        assert f"`{name}`" in guide, name


@pytest.mark.parametrize(
    ("files", "circle"),
    [
        pytest.param(
            {
                "a.py": "from pkg import b\n",
                "b.py": "from . import c\n",
                "c.py": "import pkg.a\n",
                "d.py": "from pkg.a import something\n",
            },
            ["pkg.a", "pkg.b", "pkg.c"],
            id="from-import, relative import, plain import",
        ),
        pytest.param(
            # Importing pkg.sub.x runs pkg/sub/__init__.py first.
            {
                "sub/__init__.py": "from pkg import top\n",
                "sub/x.py": "",
                "top.py": "import pkg.sub.x\n",
            },
            ["pkg.sub", "pkg.top"],
            id="through a package's __init__",
        ),
    ],
)
def test_a_circle_is_found_however_it_is_imported(
    layout: ModuleType, tmp_path: Path, files: dict[str, str], circle: list[str]
) -> None:
    package = _package(tmp_path, files)
    assert _module_circles(layout, package) == [circle]
    assert layout.main(["--check", "--package", str(package)]) == 1


def test_imports_that_do_not_run_on_import_make_no_module_level_circle(
    layout: ModuleType, tmp_path: Path
) -> None:
    package = _package(
        tmp_path,
        {
            "a.py": """\
                from typing import TYPE_CHECKING

                from pkg import b

                if TYPE_CHECKING:
                    from pkg import c
                """,
            "b.py": """\
                def later():
                    from pkg import a
                """,
            "c.py": "from pkg import a\n",
        },
    )
    found = layout.imports(package)
    assert _module_circles(layout, package) == []
    assert layout.main(["--check", "--package", str(package)]) == 0
    # The report still shows what deferred imports close.
    with_deferred = layout.circles(layout.graph(found, frozenset({"module", "deferred"})))
    assert with_deferred == [["pkg.a", "pkg.b"]]


def test_every_wrong_direction_is_named(layout: ModuleType, tmp_path: Path) -> None:
    package = _package(
        tmp_path,
        {
            "exceptions.py": "import airflow\n",
            "_sql.py": "from pkg import exceptions, types\n",  # core -> core, exceptions: fine
            "types.py": "from pkg.hooks import h\n",
            "_health.py": """\
                def f():
                    from airflow.sdk import BaseHook
                """,
            "vocabulary/words.py": """\
                from typing import TYPE_CHECKING

                if TYPE_CHECKING:
                    from pkg.ui import page
                """,
            "hooks/h.py": "from pkg import types\nfrom pkg.testing import kit\n",
            "ui/page.py": "from pkg.hooks import h\nfrom pkg.cosmos import helpers\n",
            "cosmos/helpers.py": "from pkg.hooks import h\n",
            "testing/kit.py": "from pkg import exceptions\n",
        },
    )
    breaches = layout.direction_breaches(layout.imports(package))
    assert [b.split(": ", 1)[0] for b in breaches] == [
        "pkg._health:2 imports airflow.sdk",
        "pkg.hooks.h:2 imports pkg.testing.kit",
        "pkg.types:1 imports pkg.hooks.h",
        "pkg.ui.page:2 imports pkg.cosmos.helpers",
        "pkg.vocabulary.words:4 imports pkg.ui.page",
    ]
    assert layout.main(["--check", "--package", str(package)]) == 1
