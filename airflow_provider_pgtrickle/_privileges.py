"""`PgTrickleHook.test_connection()`'s privilege check, from `vocabulary.grants`.

One statement reads the database, the role, the installed pg_trickle version and every
``has_*_privilege`` check of every listed version; the version then picks which checks count.
The reader part is required (nothing of the provider works without it); missing operator or
creator grants are reported without failing, since a connection may only be meant to read.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from airflow_provider_pgtrickle.vocabulary import grants as vocabulary

_PART_USES = {
    vocabulary.Part.READER: "read pg_trickle's catalog (health sensor and trigger, UI, dbt status)",
    vocabulary.Part.OPERATOR: "refresh or resume stream tables it does not own",
    vocabulary.Part.CREATOR: "create, alter or drop stream tables",
}


def _all_checks() -> list[str]:
    seen: dict[str, None] = {}
    for version in vocabulary.VERSIONS:
        for grant in vocabulary.grants(version, tuple(vocabulary.Part)):
            for _, expression in grant.checks():
                seen.setdefault(expression, None)
    return list(seen)


_CHECKS = _all_checks()
QUERY = (
    "SELECT current_database() AS database, current_user AS role,"
    " (SELECT extversion FROM pg_catalog.pg_extension WHERE extname = 'pg_trickle') AS version,"
    " ARRAY[" + ", ".join(_CHECKS) + "]::boolean[] AS checks"
)
"""The one statement of the check (no parameters)."""


@dataclass(frozen=True)
class Missing:
    """What one part lacks: the privileges (in words) and the GRANT statements that fix it."""

    part: vocabulary.Part
    privileges: tuple[str, ...]
    statements: tuple[str, ...]


def missing(row: dict[str, Any]) -> tuple[str, list[Missing]]:
    """(model version, what each part lacks) from a row of `QUERY` (version not NULL)."""
    results = dict(zip(_CHECKS, row["checks"], strict=True))
    version = vocabulary.model_version(str(row["version"]))
    out: list[Missing] = []
    for part in vocabulary.Part:
        labels: list[str] = []
        fixes: list[str] = []
        for grant in vocabulary.grants(version, (part,)):
            # False: the privilege is missing; NULL: the object does not exist in this
            # installation, so there is nothing to grant.
            lacking = [label for label, expr in grant.checks() if results[expr] is False]
            if lacking:
                labels += lacking
                fixes.append(grant.statement(str(row["role"])))
        if labels:
            out.append(Missing(part, tuple(labels), tuple(fixes)))
    return version, out


def verdict(row: dict[str, Any], database: str) -> tuple[bool, str]:
    """`test_connection()`'s answer for a row of `QUERY` whose version is not NULL."""
    role = str(row["role"])
    version, lacking = missing(row)
    head = (
        f"Connected to database `{database}` as `{role}`; pg_trickle {row['version']} is installed"
    )
    reader = [m for m in lacking if m.part is vocabulary.Part.READER]
    if reader:
        return False, (
            f"{head}, but the role cannot {_PART_USES[vocabulary.Part.READER]}: it lacks "
            f"{_words(reader[0].privileges)}; as pg_trickle's owner run "
            f"`{' '.join(reader[0].statements)}` (grants for pg_trickle {version}: "
            "docs/roles-and-grants.md)."
        )
    others = [m for m in lacking if m.part is not vocabulary.Part.READER]
    if not others:
        return True, (
            f"Connection successfully tested; pg_trickle {row['version']} is installed and role "
            f"`{role}` has every grant the provider uses (reader, operator, creator)."
        )
    cannot = "; ".join(
        f"it cannot {_PART_USES[m.part]} without {_words(m.privileges)} "
        f"(`{' '.join(m.statements)}`)"
        for m in others
    )
    return True, (
        f"Connection successfully tested; pg_trickle {row['version']} is installed and role "
        f"`{role}` can read its catalog, but {cannot}; grant these only if this connection "
        f"does that (docs/roles-and-grants.md)."
    )


def _words(labels: Sequence[str]) -> str:
    return ", ".join(labels)


_DENIED = re.compile(r"permission denied for (table|view|schema|sequence) (\S+)")


def part_of(operation: str) -> vocabulary.Part:
    """The part of the product an operation (the hook's wording) belongs to."""
    if any(word in operation for word in ("create", "alter", "drop")):
        return vocabulary.Part.CREATOR
    if any(word in operation for word in ("refresh", "resume")):
        return vocabulary.Part.OPERATOR
    return vocabulary.Part.READER


def grant_for_denial(server_message: str, operation: str = "") -> str | None:
    """The GRANT statement that fixes a server's ``permission denied for <kind> <name>`` on
    one of pg_trickle's objects (a change buffer: its whole schema), or None.

    The privileges are those the operation's part needs on that object (pg_trickle 0.67.0,
    the oldest listed version: the server does not say which privilege was lacking).
    """
    match = _DENIED.search(server_message)
    if match is None:
        return None
    kind, name = match.group(1), match.group(2).strip('"')
    part = part_of(operation)
    parts = [part, *(p for p in vocabulary.Part if p is not part)]
    for candidate in parts:
        for grant in vocabulary.grants(vocabulary.VERSIONS[0], (candidate,)):
            if (
                (
                    (kind == "schema" and grant.target is vocabulary.Target.SCHEMA)
                    and grant.name == name
                )
                or (
                    kind in ("table", "view", "sequence")
                    and grant.target in (vocabulary.Target.TABLE, vocabulary.Target.SEQUENCE)
                    and grant.name.rpartition(".")[2] == name
                )
                or (
                    kind == "table"
                    and grant.target is vocabulary.Target.BUFFERS
                    and name.startswith("changes_")
                )
            ):
                return grant.statement("pgt_role_placeholder").replace(
                    "pgt_role_placeholder", "<role>"
                )
    return None
