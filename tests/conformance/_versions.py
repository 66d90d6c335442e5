"""Per-version expectations for conformance tests that hold on every pg_trickle the test kit
plays but expect a different answer per version.

A test takes the `pgtrickle_version` fixture (``extversion`` read from the server, so a real
server named by `PGTRICKLE_TEST_DSN` is judged by what it runs, not by an environment
variable) and looks its expectation up in a small table keyed by version with `expected`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

import pytest

from airflow_provider_pgtrickle.testing.versions import DoubleVersion

V067 = DoubleVersion.V0_67_0.value
V0108 = DoubleVersion.V0_108_3.value

T = TypeVar("T")


def expected(version: str, table: Mapping[str, T]) -> T:
    """The entry of ``table`` for ``version``; skips the test for a version without one."""
    if version not in table:
        pytest.skip(
            f"expectations are recorded for pg_trickle {', '.join(table)}; this server runs "
            f"pg_trickle {version or '?'}"
        )
    return table[version]


def refused(version: str, function: str, name: str = "public.t") -> str:
    """The message a role that may not change stream table ``name`` gets from ``function``.

    0.67.0: src/api/helpers.rs check_stream_table_ownership. 0.108.3: the function is revoked
    from PUBLIC (the ACL block of sql/archive/pg_trickle--0.108.3.sql), so PostgreSQL's own
    EXECUTE check answers before pg_trickle's ownership check runs.
    """
    return expected(
        version,
        {
            V067: f"permission denied: must be owner of stream table {name}",
            V0108: f"permission denied for function {function}",
        },
    )
