"""The privileges each part of the product needs, per pg_trickle version, written once.

A deployment does not run as a superuser. The connection's role owns its database and its
source tables; pg_trickle is created by a superuser. What that role needs on top:

- ``reader``: the health sensor and its trigger, the UI page, the hook's read methods, dbt's
  describe/plan and `pgtrickle_status`, and the caught-up gate (`wait_for_sources`);
- ``operator``: refresh and resume of stream tables the role does not own;
- ``creator``: create, alter (including create-or-replace) and drop.

pg_trickle 0.67.0 grants nothing (its install script only revokes ``pgtrickle_changes`` from
PUBLIC) and runs every function with the caller's rights, so each catalog table an API function
touches must be granted. The 0.67.0 rows were found by experiment on a real 0.67.0 server, one
privilege at a time (`needed_for` names the statement that fails without it); a missing SELECT
on ``pgtrickle.pgt_stream_tables`` does not fail with an error there: ``create_stream_table``
ends the server process (every session restarts), so the grants must be checked before
anything is called (`PgTrickleHook.test_connection()` does). 0.96 and later define the roles
``pgtrickle_reader``, ``pgtrickle_operator`` and ``pgtrickle_admin`` and revoke the lifecycle
functions from PUBLIC; the 0.108.3 rows follow its install script
(``sql/archive/pg_trickle--0.108.3.sql``) and the functions' source, not an experiment: its
predefined roles get no SELECT on any catalog table, and its read functions (plain C functions,
not SECURITY DEFINER) read the catalog as the caller, so on 0.108.3 the reader is a member of
``pgtrickle_reader`` AND holds SELECT on the catalog tables those functions read.

Rendered into ``docs/roles-and-grants.md`` by ``scripts/generate_vocabulary.py``; read by
`PgTrickleHook.test_connection()` (one query of ``has_*_privilege`` checks) and by the test
kit (``PGTRICKLE_TEST_ROLE=least``). Importing this module is cheap (no psycopg, no Airflow).
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable
from dataclasses import dataclass


class Part(str, enum.Enum):
    """What the connection is used for."""

    READER = "reader"
    OPERATOR = "operator"
    CREATOR = "creator"


class Target(str, enum.Enum):
    """The kind of object a grant is on (the words of ``GRANT ... ON <kind>``)."""

    SCHEMA = "SCHEMA"
    TABLE = "TABLE"
    SEQUENCE = "SEQUENCE"
    FUNCTION = "FUNCTION"
    ROLE = "ROLE"  # membership: GRANT <role> TO <app>
    BUFFERS = "ALL TABLES IN SCHEMA"  # the change buffers pg_trickle creates per source
    STREAM_TABLE = "TABLE "  # each stream table (named by the owner; not checked up front)


@dataclass(frozen=True)
class Grant:
    """Privileges on one object, and the statements of the product that fail without them."""

    target: Target
    name: str
    privileges: tuple[str, ...]
    needed_for: str

    def statement(self, role: str) -> str:
        """The GRANT statement for ``role``."""
        grantee = quote_ident(role)
        if self.target is Target.STREAM_TABLE:
            return f"GRANT {', '.join(self.privileges)} ON TABLE {self.name} TO {grantee};"
        if self.target is Target.ROLE:
            return f"GRANT {self.name} TO {grantee};"
        return (
            f"GRANT {', '.join(self.privileges)} ON {self.target.value} {self.name} TO {grantee};"
        )

    def checks(self) -> tuple[tuple[str, str], ...]:
        """(label, SQL boolean) per privilege, evaluated for ``current_user``.

        Objects are looked up in the system catalogs by name, never through ``to_reg*``, so a
        check works without USAGE on the object's schema; a missing object gives NULL.
        """
        if self.target is Target.STREAM_TABLE:
            return ()
        if self.target is Target.ROLE:
            return (
                (
                    f"membership in role {self.name}",
                    "(SELECT pg_catalog.pg_has_role(r.oid, 'USAGE') FROM pg_catalog.pg_roles r"
                    f" WHERE r.rolname = {_literal(self.name)})",
                ),
            )
        if self.target is Target.SCHEMA:
            oid = f"(SELECT oid FROM pg_catalog.pg_namespace WHERE nspname = {_literal(self.name)})"
            return tuple(
                (f"{p} on schema {self.name}", f"pg_catalog.has_schema_privilege({oid}, '{p}')")
                for p in self.privileges
            )
        if self.target is Target.BUFFERS:
            return tuple(
                (
                    f"{p} on every change buffer in schema {self.name}",
                    "NOT EXISTS (SELECT FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n"
                    f" ON n.oid = c.relnamespace WHERE n.nspname = {_literal(self.name)}"
                    " AND c.relkind IN ('r', 'p') AND c.relname LIKE 'changes\\_%'"
                    f" AND NOT pg_catalog.has_table_privilege(c.oid, '{p}'))",
                )
                for p in self.privileges
            )
        schema, _, rest = self.name.partition(".")
        if self.target is Target.FUNCTION:
            fname, _, args = rest.partition("(")
            oid = (
                "(SELECT p.oid FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n"
                f" ON n.oid = p.pronamespace WHERE n.nspname = {_literal(schema)}"
                f" AND p.proname = {_literal(fname)}"
                f" AND pg_catalog.oidvectortypes(p.proargtypes) = {_literal(args.rstrip(')'))})"
            )
            return tuple(
                (
                    f"{p} on function {self.name}",
                    f"pg_catalog.has_function_privilege({oid}, '{p}')",
                )
                for p in self.privileges
            )
        oid = (
            "(SELECT c.oid FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n"
            f" ON n.oid = c.relnamespace WHERE n.nspname = {_literal(schema)}"
            f" AND c.relname = {_literal(rest)})"
        )
        check = (
            "has_sequence_privilege" if self.target is Target.SEQUENCE else "has_table_privilege"
        )
        return tuple(
            (
                f"{p} on {self.target.value.lower()} {self.name}",
                f"pg_catalog.{check}({oid}, '{p}')",
            )
            for p in self.privileges
        )


_PLAIN_IDENT = re.compile(r"[a-z_][a-z0-9_$]*")


def quote_ident(name: str) -> str:
    """``name`` as an SQL identifier: bare when lower case and plain, else double-quoted."""
    if _PLAIN_IDENT.fullmatch(name):
        return name
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _g(target: Target, name: str, privileges: str, needed_for: str) -> Grant:
    return Grant(target, name, tuple(privileges.split()), needed_for)


S, T, Q, F, R, B = (
    Target.SCHEMA,
    Target.TABLE,
    Target.SEQUENCE,
    Target.FUNCTION,
    Target.ROLE,
    Target.BUFFERS,
)

# The catalog the reader selects directly, and what reads each table.
_READ_CATALOG = {
    "pgtrickle.pgt_stream_tables": "the health query (sensor, trigger, UI, dbt status), "
    "describe/plan, caught-up",
    "pgtrickle.pgt_refresh_history": "the health query (the last error), refresh history",
    "pgtrickle.pgt_dependencies": "dbt describe/plan, the hook's dependency graph, caught-up",
    "pgtrickle.pgt_change_tracking": "caught-up (the change buffer of each source)",
}

# The catalog tables the 0.108.3 read functions the product calls read as the caller, and
# where upstream reads them (from the source, not an experiment).
_READ_FUNCTION_TABLES = {
    "pgtrickle.pgt_stream_tables": "pgt_status (src/api/diagnostics.rs), st_refresh_stats, "
    "fuse_status, get_refresh_history, list_sources, stream_table_spec (src/monitor/mod.rs, "
    "src/api/spec.rs): every read (the health query, caught-up, the hook, the UI)",
    "pgtrickle.pgt_refresh_history": "st_refresh_stats, get_refresh_history "
    "(src/monitor/mod.rs): the health query's last error, caught-up, refresh history",
    "pgtrickle.pgt_dependencies": "list_sources (src/monitor/mod.rs): caught-up, the hook's "
    "dependency graph",
    "pgtrickle.stream_tables_info": "health_check (src/monitor/mod.rs): the hook's "
    "`health_check()`",
    "pgtrickle.pgt_freshness_controller_state": "freshness (0.90.0; src/api/diagnostics.rs): "
    "the health query's freshness SLA state",
    "pgtrickle.pg_stat_stream_tables": "the statistics view st_refresh_stats mirrors: dbt's "
    "`pgtrickle_check_freshness` where the catalog is readable",
}

# pg_trickle 0.67.0 leaves EXECUTE on its functions to PUBLIC (PostgreSQL's default); the
# grant matters only where an administrator revoked it.
_PUBLIC = " (PUBLIC holds it unless revoked)"

VERSIONS = ("0.67.0", "0.108.3")
"""The pg_trickle versions the grants are written for, oldest first."""

GRANTS: dict[str, dict[Part, tuple[Grant, ...]]] = {
    "0.67.0": {
        Part.READER: (
            _g(S, "pgtrickle", "USAGE", "every reference to a pg_trickle table or function"),
            *(_g(T, table, "SELECT", why) for table, why in _READ_CATALOG.items()),
            _g(T, "pgtrickle.stream_tables_info", "SELECT", "the UI page, `health_check()`"),
            _g(T, "pgtrickle.pg_stat_stream_tables", "SELECT", "the hook's `get_stats()`"),
            _g(S, "pgtrickle_changes", "USAGE", "caught-up: counting a source's change buffer"),
            _g(B, "pgtrickle_changes", "SELECT", "caught-up: counting a source's change buffer"),
            _g(T, "pgtrickle.pgt_outbox_config", "SELECT", "the hook's `health_check()`"),
            _g(T, "pgtrickle.pgt_scheduler_jobs", "SELECT", "the hook's `health_check()`"),
            _g(F, "pgtrickle.health_check()", "EXECUTE", f"the hook's `health_check()`{_PUBLIC}"),
        ),
        Part.OPERATOR: (
            _g(S, "pgtrickle", "USAGE", "refresh_stream_table, resume_stream_table"),
            _g(S, "pgtrickle_changes", "USAGE", "refresh_stream_table (reads the change buffers)"),
            _g(B, "pgtrickle_changes", "SELECT", "refresh_stream_table (reads the change buffers)"),
            _g(T, "pgtrickle.pgt_stream_tables", "SELECT UPDATE", "refresh, resume"),
            _g(T, "pgtrickle.pgt_refresh_history", "SELECT INSERT UPDATE", "refresh"),
            _g(Q, "pgtrickle.pgt_refresh_history_refresh_id_seq", "USAGE", "refresh"),
            _g(T, "pgtrickle.pgt_dependencies", "SELECT", "refresh"),
            _g(T, "pgtrickle.pgt_change_tracking", "SELECT", "refresh"),
            _g(T, "pgtrickle.pgt_outbox_config", "SELECT", "refresh"),
            _g(T, "pgtrickle.pgt_template_cache", "SELECT", "refresh"),
            _g(F, "pgtrickle.refresh_stream_table(text)", "EXECUTE", f"refresh{_PUBLIC}"),
            _g(F, "pgtrickle.resume_stream_table(text)", "EXECUTE", f"resume{_PUBLIC}"),
            _g(
                Target.STREAM_TABLE,
                "<each stream table>",
                "SELECT INSERT UPDATE DELETE",
                "refresh of a stream table the role does not own (the refresh writes it as "
                "the caller); granted by the table's owner",
            ),
        ),
        Part.CREATOR: (
            _g(S, "pgtrickle", "USAGE", "create, alter, drop"),
            _g(
                S,
                "pgtrickle",
                "CREATE",
                "create with `refresh_mode='IMMEDIATE'` (its maintenance trigger functions "
                "are created in schema pgtrickle); not needed without IMMEDIATE tables",
            ),
            _g(
                S,
                "pgtrickle_changes",
                "USAGE CREATE",
                "create and a query change (create the change buffer and its capture "
                "triggers); writes to a source (the capture trigger runs as the creator)",
            ),
            _g(T, "pgtrickle.pgt_stream_tables", "SELECT UPDATE", "create, alter, drop, resume"),
            _g(T, "pgtrickle.pgt_stream_tables", "INSERT", "create"),
            _g(T, "pgtrickle.pgt_stream_tables", "DELETE", "drop"),
            _g(Q, "pgtrickle.pgt_stream_tables_pgt_id_seq", "USAGE", "create"),
            _g(T, "pgtrickle.pgt_dependencies", "SELECT INSERT", "create, a query change"),
            _g(T, "pgtrickle.pgt_dependencies", "DELETE", "a query change"),
            _g(T, "pgtrickle.pgt_dependencies", "UPDATE", "alter `cdc_mode`"),
            _g(T, "pgtrickle.pgt_change_tracking", "SELECT INSERT", "create"),
            _g(T, "pgtrickle.pgt_change_tracking", "UPDATE", "drop, alter `cdc_mode`"),
            _g(T, "pgtrickle.pgt_change_tracking", "DELETE", "drop"),
            _g(
                T,
                "pgtrickle.pgt_refresh_history",
                "SELECT INSERT UPDATE",
                "create (the initial fill is recorded), refresh",
            ),
            _g(Q, "pgtrickle.pgt_refresh_history_refresh_id_seq", "USAGE", "create, refresh"),
            _g(T, "pgtrickle.pgt_template_cache", "SELECT INSERT UPDATE", "create, a query change"),
            _g(T, "pgtrickle.pgt_template_cache", "DELETE", "alter, drop"),
            _g(T, "pgtrickle.pgt_outbox_config", "SELECT", "refresh"),
        ),
    },
    "0.108.3": {
        Part.READER: (
            # Every read goes through the read functions (`capabilities.ReadPath.FUNCTIONS`).
            # They are not SECURITY DEFINER upstream: their SPI reads of the catalog are
            # checked against the caller, and 0.96's upgrade script grants the roles EXECUTE
            # and schema USAGE but no SELECT. From the source, not an experiment.
            _g(
                R,
                "pgtrickle_reader",
                "",
                "USAGE on schema pgtrickle and EXECUTE on the read functions every read calls "
                "(upstream's reader role; sql/pg_trickle--0.95.0--0.96.0.sql)",
            ),
            *(_g(T, table, "SELECT", why) for table, why in _READ_FUNCTION_TABLES.items()),
            _g(
                S,
                "pgtrickle_changes",
                "USAGE",
                "health_check (its change-buffer backlog check): the hook's `health_check()`",
            ),
            _g(
                T,
                "pgtrickle_changes.pgt_pending",
                "SELECT",
                "health_check (its change-buffer backlog check): the hook's `health_check()`",
            ),
        ),
        Part.OPERATOR: (
            _g(
                R,
                "pgtrickle_operator",
                "",
                "refresh_stream_table, resume_stream_table, drain (revoked from PUBLIC)",
            ),
        ),
        Part.CREATOR: (
            _g(
                R,
                "pgtrickle_admin",
                "",
                "create_stream_table, alter_stream_table, drop_stream_table (revoked from PUBLIC)",
            ),
            _g(
                F,
                "pgtrickle.create_or_replace_stream_table(text, text, text, text, boolean, text,"
                " text, text, boolean, boolean, text, integer, double precision, text, boolean,"
                " text, text)",
                "EXECUTE",
                "create_or_replace_stream_table (revoked from PUBLIC, not granted to "
                "pgtrickle_admin)",
            ),
        ),
    },
}


def model_version(extversion: str) -> str:
    """The listed version whose grants apply to an installed ``extversion``: the newest one
    not newer than it (the oldest for anything older)."""
    installed = _version_key(extversion)
    chosen = VERSIONS[0]
    for version in VERSIONS:
        if _version_key(version) <= installed:
            chosen = version
    return chosen


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(
        int("".join(ch for ch in part if ch.isdigit()) or 0) for part in version.split(".")
    )


def grants(version: str, parts: Iterable[Part]) -> tuple[Grant, ...]:
    """The grants of ``parts`` for ``version`` (a key of `GRANTS`), each object once, in order."""
    out: dict[tuple[Target, str], Grant] = {}
    for part in parts:
        for grant in GRANTS[version][part]:
            key = (grant.target, grant.name)
            if key in out:
                seen = out[key]
                merged = tuple(
                    sorted(
                        set(seen.privileges) | set(grant.privileges),
                        key=_PRIVILEGE_ORDER.index,
                    )
                )
                out[key] = Grant(seen.target, seen.name, merged, seen.needed_for)
            else:
                out[key] = grant
    return tuple(out.values())


_PRIVILEGE_ORDER = (
    "SELECT",
    "INSERT",
    "UPDATE",
    "DELETE",
    "TRUNCATE",
    "USAGE",
    "CREATE",
    "EXECUTE",
)


def statements(version: str, parts: Iterable[Part], role: str) -> list[str]:
    """The GRANT statements that give ``role`` what ``parts`` need on ``version``, except
    the per-stream-table ones (their owner grants those, naming each table)."""
    return [
        grant.statement(role)
        for grant in grants(version, parts)
        if grant.target is not Target.STREAM_TABLE
    ]


_PART_TITLES = {
    Part.READER: "Reader: health sensor and trigger, UI, hook reads, dbt status/describe/plan, "
    "caught-up",
    Part.OPERATOR: "Operator: refresh and resume (of stream tables the role does not own)",
    Part.CREATOR: "Creator: create, alter, create-or-replace, drop",
}
_EXAMPLE_ROLE = "app"

DOC_PATH = "docs/roles-and-grants.md"
"""The page whose generated block `reference_markdown()` renders."""


def reference_markdown() -> str:
    """The generated block of docs/roles-and-grants.md: per version and part, the GRANT
    statements (for a role called ``app``) and why each privilege is needed."""
    lines: list[str] = []
    for version in VERSIONS:
        lines += [f"### pg_trickle {version}", ""]
        for part in Part:
            lines += [f"#### {_PART_TITLES[part]}", ""]
            per_table = [
                f"-- by the owner of each stream table: {g.statement(_EXAMPLE_ROLE)}"
                for g in GRANTS[version][part]
                if g.target is Target.STREAM_TABLE
            ]
            block = [*statements(version, (part,), _EXAMPLE_ROLE), *per_table]
            lines += ["```sql", *block, "```", ""]
            lines += ["| Privilege | On | Needed by |", "|---|---|---|"]
            for grant in GRANTS[version][part]:
                privileges = ", ".join(grant.privileges) or "membership"
                on = f"{grant.target.value.strip().lower()} `{grant.name}`"
                lines.append(f"| {privileges} | {on} | {grant.needed_for} |")
            lines.append("")
    return "\n".join(lines)
