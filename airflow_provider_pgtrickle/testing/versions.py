"""The pg_trickle versions the test double plays, and which one the test kit starts.

One place for the rule: the test server (`server.start_double_server`), the pytest fixtures,
`python -m airflow_provider_pgtrickle.testing serve --version …` and `scripts/demo.py` all
read it. The double for 0.67.0 is the install script `pg_trickle--0.67.0.sql`; 0.108.3 is
that script plus the update `pg_trickle--0.67.0--0.108.3.sql`, which PostgreSQL applies for
`CREATE EXTENSION pg_trickle VERSION '0.108.3'` (see docs/pg_trickle-contract.md).
"""

from __future__ import annotations

import os
from enum import Enum


class DoubleVersion(str, Enum):
    """A pg_trickle release the test double imitates."""

    V0_67_0 = "0.67.0"
    V0_108_3 = "0.108.3"


# The version a test server gets when nothing else is asked for: 0.108.3, the release a new
# user installs today (the whole kit passes on both; 0.67.0 stays one variable away).
# Flipping the default is this one line.
DEFAULT_VERSION = DoubleVersion.V0_108_3
VERSION_ENV = "PGTRICKLE_TEST_VERSION"
"""Environment variable that picks the double's version for tests, `serve` and the demo."""


def accepted_versions() -> tuple[str, ...]:
    return tuple(v.value for v in DoubleVersion)


def resolve_version(value: str | DoubleVersion | None = None) -> DoubleVersion:
    """The version to start: ``value``, else `PGTRICKLE_TEST_VERSION`, else the default.

    :raises PgTrickleTestServerError: the value is not a version the double plays.
    """
    if isinstance(value, DoubleVersion):
        return value
    raw = value if value is not None else os.environ.get(VERSION_ENV, "")
    if not raw.strip():
        return DEFAULT_VERSION
    try:
        return DoubleVersion(raw.strip())
    except ValueError:
        from airflow_provider_pgtrickle.exceptions import PgTrickleTestServerError

        source = "the requested version" if value is not None else VERSION_ENV
        raise PgTrickleTestServerError(
            f"The pg_trickle test double cannot play {source} {raw!r}; accepted versions: "
            f"{', '.join(accepted_versions())}. Pick one of them (or leave {VERSION_ENV} "
            f"unset for {DEFAULT_VERSION.value})."
        ) from None
