"""What the connected pg_trickle server offers, learned once per connection in one round trip.

The product chooses behaviour by capability, not by version number: "does
`pgtrickle.pause_stream_table` exist?" rather than "is this 0.79.0 or newer?". `probe()` asks
the server everything below in ONE query and returns a frozen `Capabilities`; the hook caches
it per hook instance (`PgTrickleHook.capabilities()`).

The versions the provider is tested against are declared here, once (`SUPPORTED`): the hook's
`test_connection()`, the unsupported-version warning, the docs (docs/install.md
"Compatibility", docs/pg_trickle-contract.md) and dbt's `pgtrickle_status` (through the
generated config vocabulary) all read them.

No Airflow, no psycopg import at module level: the vocabulary generator imports this module.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import psycopg


@dataclass(frozen=True)
class VersionRange:
    """Inclusive range of pg_trickle versions."""

    oldest: str
    newest: str

    def __contains__(self, version: object) -> bool:
        if not isinstance(version, str):
            return False
        return version_key(self.oldest) <= version_key(version) <= version_key(self.newest)

    def __str__(self) -> str:
        return self.oldest if self.oldest == self.newest else f"{self.oldest} to {self.newest}"


# The pg_trickle versions the provider is tested against. 0.67.0 is the version it was built
# on; upstream froze its API at 0.104.0, and 0.108.3 is the newest release tested.
SUPPORTED: tuple[VersionRange, ...] = (
    VersionRange("0.67.0", "0.67.0"),
    VersionRange("0.104.0", "0.108.3"),
)
OLDEST_SUPPORTED = SUPPORTED[0].oldest
NEWEST_TESTED = SUPPORTED[-1].newest


def supported_text() -> str:
    """The supported versions in words, e.g. ``0.67.0 and 0.104.0 to 0.108.3``."""
    return " and ".join(str(r) for r in SUPPORTED)


def is_supported(version: str | None) -> bool:
    return version is not None and any(version in r for r in SUPPORTED)


def version_key(version: str) -> tuple[int, ...]:
    """``'0.108.3'`` -> ``(0, 108, 3)``; non-digits in a part are ignored (``'1rc2'`` -> 12)."""
    parts = []
    for part in version.split("."):
        digits = "".join(c for c in part if c.isdigit())
        parts.append(int(digits) if digits else 0)
    return tuple(parts)


class Feature(str, Enum):
    """A pg_trickle function whose presence changes what the provider does."""

    PAUSE_STREAM_TABLE = "pause_stream_table"
    REFRESH_GRAPH_STRICT = "refresh_graph_strict"
    GRAPH_CONTRACT = "graph_contract"
    EXPLAIN_ALTER = "explain_alter"
    FRESHNESS = "freshness"
    ERROR_CATALOG = "error_catalog"
    PGT_STATUS = "pgt_status"
    STREAM_TABLE_SPEC = "stream_table_spec"
    ST_REFRESH_STATS = "st_refresh_stats"
    FUSE_STATUS = "fuse_status"
    GET_REFRESH_HISTORY = "get_refresh_history"
    LIST_SOURCES = "list_sources"


class ReadPath(str, Enum):
    """How the provider reads pg_trickle's state (`Capabilities.read_path`).

    ``CATALOG``: SELECT on ``pgtrickle.pgt_stream_tables``, ``pgt_refresh_history`` and
    ``pgt_dependencies`` (pg_trickle 0.67.0, where the read functions need those grants too).
    ``FUNCTIONS``: only the read functions upstream grants to PUBLIC from 0.96.0 on, when it
    also defined ``pgtrickle_reader`` and left the catalog ungranted (``pgt_status()``,
    ``st_refresh_stats()``, ``fuse_status()``, ``get_refresh_history()``, ``list_sources()``;
    sql/archive/pg_trickle--0.108.3.sql, the ``public_read`` block).
    """

    CATALOG = "catalog"
    FUNCTIONS = "functions"


# The read functions the FUNCTIONS path calls; `read_path` takes it only when all exist.
READ_FUNCTIONS: tuple[Feature, ...] = (
    Feature.PGT_STATUS,
    Feature.ST_REFRESH_STATS,
    Feature.FUSE_STATUS,
    Feature.GET_REFRESH_HISTORY,
    Feature.LIST_SOURCES,
)


class CatalogColumn(str, Enum):
    """A column of `pgtrickle.pgt_stream_tables` whose presence changes what the provider reads."""

    ORCHESTRATION_MODE = "orchestration_mode"
    TARGET_FRESHNESS_MODE = "target_freshness_mode"
    LAST_ERROR_CODE = "last_error_code"
    LAST_ERROR_RETRYABLE = "last_error_retryable"
    ROW_IDENTITY_VERSION = "row_identity_version"


# The pg_trickle release that brought each one (upstream CHANGELOG.md and the comments of
# sql/archive/pg_trickle--0.108.3.sql); named in the error when a server lacks it.
SINCE: dict[Feature | CatalogColumn, str] = {
    Feature.PAUSE_STREAM_TABLE: "0.79.0",
    Feature.REFRESH_GRAPH_STRICT: "0.94.0",
    Feature.GRAPH_CONTRACT: "0.93.0",
    Feature.EXPLAIN_ALTER: "0.91.0",
    Feature.FRESHNESS: "0.90.0",
    Feature.ERROR_CATALOG: "0.96.0",
    Feature.PGT_STATUS: OLDEST_SUPPORTED,  # in every supported version
    Feature.STREAM_TABLE_SPEC: "0.62.0",
    Feature.ST_REFRESH_STATS: OLDEST_SUPPORTED,
    Feature.FUSE_STATUS: OLDEST_SUPPORTED,
    Feature.GET_REFRESH_HISTORY: OLDEST_SUPPORTED,
    Feature.LIST_SOURCES: OLDEST_SUPPORTED,
    CatalogColumn.ORCHESTRATION_MODE: "0.93.0",
    CatalogColumn.TARGET_FRESHNESS_MODE: "0.86.0",
    CatalogColumn.LAST_ERROR_CODE: "0.85.0",
    CatalogColumn.LAST_ERROR_RETRYABLE: "0.85.0",
    CatalogColumn.ROW_IDENTITY_VERSION: "0.83.0",
}


@dataclass(frozen=True)
class Capabilities:
    """What one pg_trickle server offers to the connected role.

    :param extversion: installed version, ``None`` when the extension is not installed.
    :param functions: the probed `Feature` functions that exist in schema `pgtrickle`.
    :param columns: the probed `CatalogColumn` columns `pgtrickle.pgt_stream_tables` has.
    :param can_read_catalog: the role may SELECT `pgtrickle.pgt_stream_tables` (USAGE on the
        schema and SELECT on the table; 0.108.3 grants neither to its predefined roles).
    :param reader_role: this database's pg_trickle grants USAGE on schema ``pgtrickle`` to the
        predefined role ``pgtrickle_reader`` (0.96.0 and later; the role is cluster-wide, the
        grant is not, so a 0.67.0 database next to a newer one answers ``False``).
    """

    extversion: str | None
    functions: frozenset[Feature]
    columns: frozenset[CatalogColumn]
    can_read_catalog: bool
    reader_role: bool = False

    @property
    def installed(self) -> bool:
        return self.extversion is not None

    @property
    def supported(self) -> bool:
        """Whether the installed version is one the provider is tested against."""
        return is_supported(self.extversion)

    @property
    def read_path(self) -> ReadPath:
        """FUNCTIONS where the database's pg_trickle grants reading to ``pgtrickle_reader``
        (0.96.0 and later, which grant that role no catalog table: the read functions are the
        way in) and has every read function the provider calls; CATALOG otherwise (0.67.0).
        Chosen by what the server has, not by who asks, so a superuser reads the same way as
        a role that only holds ``pgtrickle_reader``."""
        if self.reader_role and all(f in self.functions for f in READ_FUNCTIONS):
            return ReadPath.FUNCTIONS
        return ReadPath.CATALOG

    def has(self, feature: Feature | CatalogColumn) -> bool:
        if isinstance(feature, Feature):
            return feature in self.functions
        return feature in self.columns

    def require(self, feature: Feature | CatalogColumn, *, subject: str = "") -> None:
        """Raise `PgTrickleFeatureUnavailableError` unless the server has ``feature``."""
        if self.has(feature):
            return
        # Imported here: exceptions.py imports Airflow, this module must not (see above).
        from airflow_provider_pgtrickle.exceptions import PgTrickleFeatureUnavailableError

        kind = "function" if isinstance(feature, Feature) else "catalog column"
        where = f"pgtrickle.{feature.value}" if isinstance(feature, Feature) else feature.value
        raise PgTrickleFeatureUnavailableError(
            f"{subject + ': ' if subject else ''}pg_trickle {self.extversion or '(not installed)'} "
            f"on this connection has no {kind} `{where}`; it arrived in pg_trickle "
            f"{SINCE[feature]}. Update the extension (`ALTER EXTENSION pg_trickle UPDATE`) to "
            f"a supported version ({supported_text()})."
        )

    def support_note(self) -> str:
        """``supported``, or that the version is not a tested one and which ones are."""
        if self.supported:
            return "supported"
        return f"NOT a tested version; tested: {supported_text()}"

    def describe(self) -> str:
        """One line for logs: the version and whether it is supported."""
        if self.extversion is None:
            return "pg_trickle is not installed"
        return f"pg_trickle {self.extversion} ({self.support_note()})"

    def unsupported_warning(self) -> str | None:
        """The warning for a server outside `SUPPORTED`, or ``None``."""
        if self.extversion is None or self.supported:
            return None
        return (
            f"pg_trickle {self.extversion} is not a version this provider is tested against "
            f"(tested: {supported_text()}); it may work, but where it differs the provider "
            f"may fail. Install one of the tested versions."
        )


# One round trip. pg_proc and pg_attribute are readable by every role; the catalog privilege
# needs USAGE on the schema as well as SELECT on the table, and has_table_privilege(oid) is
# asked through pg_class so a role without USAGE gets `false`, not an error.
PROBE_QUERY = (
    "SELECT (SELECT extversion FROM pg_catalog.pg_extension WHERE extname = 'pg_trickle')"
    " AS extversion,"
    " ARRAY(SELECT DISTINCT p.proname::text FROM pg_catalog.pg_proc AS p"
    "   JOIN pg_catalog.pg_namespace AS n ON n.oid = p.pronamespace"
    "   WHERE n.nspname = 'pgtrickle' AND p.proname = ANY(%s::text[])) AS functions,"
    " ARRAY(SELECT a.attname::text FROM pg_catalog.pg_attribute AS a"
    "   JOIN pg_catalog.pg_class AS c ON c.oid = a.attrelid"
    "   JOIN pg_catalog.pg_namespace AS n ON n.oid = c.relnamespace"
    "   WHERE n.nspname = 'pgtrickle' AND c.relname = 'pgt_stream_tables'"
    "   AND a.attnum > 0 AND NOT a.attisdropped AND a.attname = ANY(%s::text[])) AS columns,"
    " COALESCE((SELECT has_schema_privilege(n.oid, 'USAGE')"
    "             AND has_table_privilege(c.oid, 'SELECT')"
    "   FROM pg_catalog.pg_class AS c JOIN pg_catalog.pg_namespace AS n"
    "   ON n.oid = c.relnamespace"
    "   WHERE n.nspname = 'pgtrickle' AND c.relname = 'pgt_stream_tables'), false)"
    " AS can_read_catalog,"
    " COALESCE((SELECT has_schema_privilege(r.oid, n.oid, 'USAGE')"
    "   FROM pg_catalog.pg_roles AS r, pg_catalog.pg_namespace AS n"
    "   WHERE r.rolname = 'pgtrickle_reader' AND n.nspname = 'pgtrickle'), false)"
    " AS reader_role"
)


def _probe_params() -> list[Any]:
    return [[f.value for f in Feature], [c.value for c in CatalogColumn]]


def probe(conn: psycopg.Connection[Any]) -> Capabilities:
    """Ask the server behind ``conn`` what it offers (one statement; read-only)."""
    with conn.cursor() as cur:
        cur.execute(PROBE_QUERY, _probe_params())
        found = cur.fetchone()
    return _capabilities(found)


async def aprobe(conn: psycopg.AsyncConnection[Any]) -> Capabilities:
    """`probe` on an async connection (the triggers')."""
    cur = await conn.execute(PROBE_QUERY, _probe_params())
    return _capabilities(await cur.fetchone())


def _capabilities(found: Any) -> Capabilities:
    assert found is not None  # a SELECT without FROM returns exactly one row
    if isinstance(found, dict):
        extversion, functions, columns, readable, reader_role = (
            found["extversion"],
            found["functions"],
            found["columns"],
            found["can_read_catalog"],
            found["reader_role"],
        )
    else:
        extversion, functions, columns, readable, reader_role = found
    return Capabilities(
        extversion=extversion,
        functions=frozenset(Feature(f) for f in functions),
        columns=frozenset(CatalogColumn(c) for c in columns),
        can_read_catalog=bool(readable),
        reader_role=bool(reader_role),
    )
