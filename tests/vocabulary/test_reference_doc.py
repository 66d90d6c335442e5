"""docs/reference/configuration.md shows the vocabulary as it is."""

from __future__ import annotations

import re
from pathlib import Path

from airflow_provider_pgtrickle.vocabulary.config import reference_markdown

PAGE = Path(__file__).resolve().parents[2] / "docs" / "reference" / "configuration.md"
BLOCK = re.compile(r"<!-- BEGIN GENERATED: [^>]*-->\n(.*?)<!-- END GENERATED -->", re.S)


def test_the_reference_tables_are_the_vocabulary() -> None:
    match = BLOCK.search(PAGE.read_text(encoding="utf-8"))
    assert match is not None
    assert match.group(1) == reference_markdown(), (
        "docs/reference/configuration.md is stale; replace its generated block with "
        "airflow_provider_pgtrickle.vocabulary.config.reference_markdown()"
    )
