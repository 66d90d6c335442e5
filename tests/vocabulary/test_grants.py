"""The grants vocabulary: version choice, statements, and objects that exist."""

from __future__ import annotations

import pytest

from airflow_provider_pgtrickle.testing.server import EXTENSION_DIR
from airflow_provider_pgtrickle.vocabulary import grants


@pytest.mark.parametrize(
    ("installed", "model"),
    [
        ("0.50.0", "0.67.0"),
        ("0.67.0", "0.67.0"),
        ("0.95.2", "0.67.0"),
        ("0.108.3", "0.108.3"),
        ("0.110.0", "0.108.3"),
    ],
)
def test_the_newest_listed_version_not_newer_than_the_installed_one_applies(
    installed: str, model: str
) -> None:
    assert grants.model_version(installed) == model


def test_statements_quote_the_role_and_merge_privileges_per_object() -> None:
    statements = grants.statements("0.67.0", tuple(grants.Part), 'Odd "Role"')
    assert 'GRANT USAGE, CREATE ON SCHEMA pgtrickle TO "Odd ""Role""";' in statements
    catalog = "pgtrickle.pgt_stream_tables"
    assert f'GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE {catalog} TO "Odd ""Role""";' in (
        statements
    )
    assert len(statements) == len(set(statements))
    # Per-stream-table grants are the owner's to give, never run by the kit.
    assert not any("<each stream table>" in s for s in statements)


def test_every_067_object_exists_in_pg_trickle_067() -> None:
    """The double mirrors 0.67.0's catalog; a typo in the grants would fail a GRANT."""
    script = (EXTENSION_DIR / "pg_trickle--0.67.0.sql").read_text(encoding="utf-8")
    for grant in grants.grants("0.67.0", tuple(grants.Part)):
        if grant.target in (grants.Target.SCHEMA, grants.Target.BUFFERS):
            assert f"CREATE SCHEMA {grant.name};" in script, grant
        elif grant.target is grants.Target.SEQUENCE:
            # A serial column's sequence: <table>_<column>_seq.
            assert any(
                f"CREATE TABLE {grant.name[:cut]} (" in script
                for cut in range(len(grant.name))
                if grant.name[cut] == "_"
            ), grant
        elif grant.target is grants.Target.TABLE:
            assert grant.name in script, grant
