"""The stream table arguments, written once: names, kinds, defaults, accepted words and their
aliases, number ranges, the identifier rule, the schedule grammar and the combinations
pg_trickle refuses.

Python reads this module (`airflow_provider_pgtrickle._validation`, the hook, the operators);
the dbt package reads the macro `pgtrickle_config_vocabulary()` rendered from it by
`scripts/generate_vocabulary.py`. Every rule follows what pg_trickle 0.67.0 itself accepts
(the source file and function are named next to each rule): a spelling the engine accepts is
accepted with one canonical value, a spelling it refuses is refused before anything is sent.
The only spellings the engine does not know are the documented aliases `PAUSED` (status).

Pure data and tiny helpers: importing it pulls in no Airflow, psycopg or dbt.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from airflow_provider_pgtrickle.vocabulary import lifecycle

# PostgreSQL `integer` and `bigint` ranges (the SQL types of the numeric arguments).
INT4_MAX = 2**31 - 1
INT8_MAX = 2**63 - 1


class Kind(str, enum.Enum):
    """How a value of an argument is read."""

    WORD = "word"  # one of a closed list of words (aliases allowed)
    BOOLEAN = "boolean"
    INTEGER = "integer"  # an int (not a bool, not a float) in [minimum, maximum]
    NUMBER = "number"  # a finite int or float in [minimum, maximum]
    SCHEDULE = "schedule"
    PARTITION = "partition"  # the partition_by grammar
    COLUMN = "column"  # a column name of the query
    FRESHNESS = "freshness"  # the target_freshness grammar (pg_trickle 0.86.0+)


class Surface(str, enum.Enum):
    """Where an argument can be given."""

    CREATE = "create"  # hook create / create_or_replace and the create operator (options)
    ALTER = "alter"  # hook alter and the alter operator
    MODEL = "model"  # a dbt model's config


@dataclass(frozen=True)
class Argument:
    """One stream table argument.

    ``default`` is the value used when the argument is left out; ``None`` means "not managed":
    nothing is sent and pg_trickle keeps (or picks) its own value. Words are the canonical
    spellings (upper or lower case as pg_trickle stores them); ``alter_words`` and
    ``model_words`` narrow them for alter and for a dbt model.
    """

    name: str
    kind: Kind
    sql_type: str
    surfaces: tuple[Surface, ...]
    default: object = None
    words: tuple[str, ...] = ()
    alter_words: tuple[str, ...] | None = None
    model_words: tuple[str, ...] | None = None
    upper: bool = False
    aliases: Mapping[str, str] = field(default_factory=dict)
    minimum: float | None = None
    maximum: float | None = None
    zero_means_no_limit: bool = False


Surfaces = tuple[Surface, ...]
_ALL: Surfaces = (Surface.CREATE, Surface.ALTER, Surface.MODEL)

_IDENT_WORDS = "a lowercase unquoted identifier matching [a-z_][a-z0-9_]* of at most 63 bytes"


def _word(
    name: str, surfaces: Surfaces, default: str | None, *words: str, **rules: Any
) -> Argument:
    return Argument(name, Kind.WORD, "text", surfaces, default, words, **rules)


def _flag(name: str, surfaces: Surfaces, default: bool) -> Argument:
    return Argument(name, Kind.BOOLEAN, "boolean", surfaces, default)


def _range(
    name: str, kind: Kind, sql_type: str, surfaces: Surfaces, low: int, **rules: Any
) -> Argument:
    return Argument(name, kind, sql_type, surfaces, None, minimum=low, **rules)


_ALTER_MODEL = (Surface.ALTER, Surface.MODEL)
REFRESH_MODES = ("DIFFERENTIAL", "FULL", "AUTO", "IMMEDIATE")
STATUSES = ("ACTIVE", "SUSPENDED", "INITIALIZING", "ERROR")
# AUTO is resolved at create and must never reach alter (pg_trickle src/api/alter.rs stores it
# and fails the catalog CHECK); INCREMENTAL is the engine's own alias (src/dag.rs,
# RefreshMode::from_str, case-insensitive).
_MODE_RULES: dict[str, Any] = {"upper": True, "alter_words": ("DIFFERENTIAL", "FULL", "IMMEDIATE")}
_MODE_RULES["aliases"] = {"INCREMENTAL": "DIFFERENTIAL"}
# What pg_trickle stores for AUTO (DIFFERENTIAL, or FULL when the query cannot be maintained
# incrementally; src/api/alter.rs, create_stream_table_impl). Redeploying AUTO onto an existing
# table keeps the stored mode when it is one of these, else the default.
AUTO_RESOLVES_TO = ("DIFFERENTIAL", "FULL")
# pg_trickle has no PAUSED (src/dag.rs, StStatus::from_str): our documented alias. A model may
# only ask for ACTIVE or SUSPENDED; pg_trickle sets the others itself.
_STATUS_RULES: dict[str, Any] = {"upper": True, "model_words": STATUSES[:2]}
_STATUS_RULES["aliases"] = {"PAUSED": "SUSPENDED"}
_NO_LIMIT: dict[str, Any] = {"zero_means_no_limit": True}

# Where each rule comes from in pg_trickle 0.67.0: cdc_mode src/api/mod.rs,
# normalize_requested_cdc_mode; diamond_* src/dag.rs, from_sql_str; partition_by
# src/api/helpers.rs, validate_partition_key; fuse and tier src/api/alter.rs,
# alter_stream_table_impl; storage_backend src/api/alter.rs, create_stream_table_impl;
# on_configuration_change is dbt's own. The SQL types are those of the install script.
ARGUMENTS: tuple[Argument, ...] = (
    Argument("schedule", Kind.SCHEDULE, "text", _ALL, "1m"),
    _word("refresh_mode", _ALL, "DIFFERENTIAL", *REFRESH_MODES, **_MODE_RULES),
    _word("status", _ALTER_MODEL, "ACTIVE", *STATUSES, **_STATUS_RULES),
    _flag("initialize", (Surface.MODEL,), True),
    _word("cdc_mode", _ALL, None, "auto", "trigger", "wal"),
    Argument("partition_by", Kind.PARTITION, "text", _ALL),
    _flag("append_only", _ALL, False),
    _word("fuse", _ALTER_MODEL, "off", "off", "on", "auto"),
    _range("fuse_ceiling", Kind.INTEGER, "bigint", _ALTER_MODEL, 1, maximum=INT8_MAX),
    _range("fuse_sensitivity", Kind.INTEGER, "integer", _ALTER_MODEL, 1, maximum=INT4_MAX),
    _word("diamond_consistency", _ALL, "atomic", "atomic", "none"),
    _word("diamond_schedule_policy", _ALL, "fastest", "fastest", "slowest"),
    _range(
        "max_differential_joins", Kind.INTEGER, "integer", _ALL, 0, maximum=INT4_MAX, **_NO_LIMIT
    ),
    _range("max_delta_fraction", Kind.NUMBER, "double precision", _ALL, 0, **_NO_LIMIT),
    _flag("pooler_compatibility_mode", _ALL, False),
    _word("tier", (Surface.ALTER,), None, "hot", "warm", "cold", "frozen"),
    _word("on_configuration_change", (Surface.MODEL,), "apply", "apply", "continue", "fail"),
    _flag("temporal", (Surface.MODEL,), False),
    _word("storage_backend", (Surface.MODEL,), None, "heap", "citus", "pg_mooncake", "none"),
    Argument("output_distribution_column", Kind.COLUMN, "text", (Surface.MODEL,)),
    # pg_trickle 0.93.0 (src/api/integration.rs, normalize_mode: trimmed, any case). On alter
    # (and for a dbt model whose table exists)
    # it goes through set_orchestration_mode (alter_stream_table has no such argument).
    _word(
        "orchestration_mode",
        _ALL,
        "MANAGED",
        "MANAGED",
        "EXTERNAL",
        upper=True,
    ),
    # pg_trickle 0.86.0 (the double's _target_freshness mirrors it): see FreshnessGrammar.
    Argument("target_freshness", Kind.FRESHNESS, "text", _ALL),
)
# What each argument is for (the reference page shows it).
DOCS: Mapping[str, str] = {
    "schedule": "How stale the table may get: a duration, a cron expression or `calculated`.",
    "refresh_mode": "How the table is refreshed.",
    "status": "Whether the scheduler refreshes the table.",
    "initialize": "Fill the table when it is created.",
    "cdc_mode": "How source changes are captured (not set: the server's `pg_trickle.cdc_mode`).",
    "partition_by": "Partition the storage table.",
    "append_only": "The sources only ever receive inserts.",
    "fuse": "Suspend the table when a refresh changes too many rows.",
    "fuse_ceiling": "Rows one refresh may change before the fuse blows.",
    "fuse_sensitivity": "Refreshes over the ceiling before the fuse blows.",
    "diamond_consistency": "Refresh diamond-shaped dependencies atomically.",
    "diamond_schedule_policy": "Fire an atomic diamond group when any / all members are due.",
    "max_differential_joins": "Joins above which a DIFFERENTIAL refresh falls back to FULL.",
    "max_delta_fraction": "Share of changed rows above which a refresh is FULL.",
    "pooler_compatibility_mode": "Work behind a transaction-pooling connection pooler.",
    "tier": "Refresh tier (cold and frozen tables are refreshed rarely or never).",
    "on_configuration_change": "dbt only: apply config changes, keep the table, or fail.",
    "temporal": "Keep `__pgt_valid_from` / `__pgt_valid_to` columns (create only).",
    "storage_backend": "Storage of the table (create only; not set: the server's setting).",
    "output_distribution_column": "Citus: distribute the storage table by it (create only).",
    "orchestration_mode": "Who refreshes the table: pg_trickle's scheduler (`MANAGED`) or only "
    "an external coordinator such as Airflow (`EXTERNAL`; pg_trickle 0.93.0+).",
    "target_freshness": "How fresh the table must be instead of a schedule (pg_trickle 0.86.0+; "
    "not together with `schedule`).",
}
BY_NAME: Mapping[str, Argument] = {a.name: a for a in ARGUMENTS}


def arguments(surface: Surface) -> tuple[Argument, ...]:
    """The arguments that can be given on ``surface``, in declaration order."""
    return tuple(a for a in ARGUMENTS if surface in a.surfaces)


# Booleans: real booleans, or these words (trimmed, any case), e.g. from a YAML string.
BOOLEAN_WORDS: Mapping[str, bool] = {"true": True, "false": False}


class IdentifierRule:
    """Stream table and schema names: lower-case unquoted identifiers only. pg_trickle
    resolves its storage table through an unquoted cast, so other names cannot work
    (docs/pg_trickle-contract.md, Names). The pattern is ASCII-only, so once it matches,
    characters and bytes are the same count and both sides may count either."""

    pattern: str = r"[a-z_][a-z0-9_]*\Z"
    max_bytes: int = 63  # PostgreSQL NAMEDATALEN - 1
    # Schemas a stream table must not live in: pg_* is PostgreSQL's (pg_catalog, pg_temp...),
    # the others belong to the SQL standard and to pg_trickle itself.
    reserved_schema_prefix: str = "pg_"
    reserved_schemas: tuple[str, ...] = ("information_schema", "pgtrickle", "pgtrickle_changes")


IDENTIFIER = IdentifierRule()
# What an error about a name says is accepted (the same text in Python and dbt).
IDENTIFIER_ACCEPTED = (
    _IDENT_WORDS + " (pg_trickle cannot create other names); set `alias` / `schema` (or "
    "`stream_table_name` / `stream_table_schema`) accordingly"
)
RESERVED_SCHEMA_ACCEPTED = (
    "a schema of your own (not pg_*, " + ", ".join(IdentifierRule.reserved_schemas) + ")"
)
COLUMN_PATTERN = r"[A-Za-z_][A-Za-z0-9_]*\Z"


class ScheduleGrammar:
    """pg_trickle src/api/helpers.rs, parse_schedule / parse_duration / validate_cron, and
    src/api/alter.rs, create_stream_table_impl (schedule).

    The text is trimmed. `calculated` (any case) means CALCULATED: the table takes the
    tightest schedule of its dependents. Text starting with `@` or containing a space is a
    cron expression: an alias (any case: croner compares them case-insensitively; sent in
    lower case) or 5/6 whitespace-separated fields. Anything else is a duration: bare
    seconds (`60`, `+60`) or number+unit parts (`1h30m`; lower-case units s m h d w), at
    least `min_seconds` and at most `max_seconds` (i64) in total.

    `None` (Python None, YAML null, Jinja none) means CALCULATED when creating (and for a
    model); when altering it means "leave unchanged". The strings 'none' and 'null' are
    refused, as pg_trickle refuses them. An integer (not a bool) is read as bare seconds.
    With refresh_mode IMMEDIATE the schedule is validated and then sent as `calculated`:
    pg_trickle stores no schedule for such tables.
    """

    calculated: str = "calculated"
    default: str = "1m"
    units: Mapping[str, int] = MappingProxyType(
        {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
    )
    seconds_pattern: str = r"\+?[0-9]+\Z"
    duration_pattern: str = r"(?:[0-9]+[smhdw])+\Z"
    part_pattern: str = r"([0-9]+)([smhdw])"
    cron_aliases: tuple[str, ...] = (
        "@yearly",
        "@annually",
        "@monthly",
        "@weekly",
        "@daily",
        "@hourly",
    )
    cron_field_counts: tuple[int, ...] = (5, 6)
    # croner's characters (digits * / , - and L W ? # +) plus month and weekday names.
    cron_field_pattern: str = r"[0-9A-Za-z*/,?#+\-]+\Z"
    # The numbers each field may hold, for 5 fields (minute hour day-of-month month
    # day-of-week); a 6th, leading field holds seconds. Steps (after /) and the nth weekday
    # (after #) are not values. croner refuses a value out of range ('99 * * * *').
    cron_field_ranges: tuple[tuple[int, int], ...] = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 7))
    cron_seconds_range: tuple[int, int] = (0, 59)
    min_seconds: int = 1  # the default of the pg_trickle.min_schedule_seconds setting
    # Refresh modes without a schedule: pg_trickle stores NULL (src/api/alter.rs,
    # create_stream_table_impl), so `calculated` is sent and compared.
    scheduleless_modes: tuple[str, ...] = ("IMMEDIATE",)
    max_seconds: int = INT8_MAX


SCHEDULE = ScheduleGrammar()


class FreshnessGrammar:
    """target_freshness (pg_trickle 0.86.0; the test double's `_target_freshness`): trimmed,
    any case, `manual` (off the scheduler, manual refreshes stay allowed), `on_commit`
    (refresh_mode IMMEDIATE), or an interval in the schedule's duration grammar (bare
    seconds or number+unit parts; pg_trickle 0.90.0 refuses intervals unless
    track_commit_timestamp is on, which only the server can tell). Not with `schedule`."""

    words: tuple[str, ...] = ("manual", "on_commit")
    on_commit: str = "on_commit"
    manual: str = "manual"
    # A dbt model: the schedule follows from the target (the interval, else `calculated`), so
    # a schedule other than `calculated` / none next to a target is refused.
    with_schedule: str = (
        "a target_freshness or a schedule, not both (leave the schedule out, or set it to none)"
    )


FRESHNESS = FreshnessGrammar()

# partition_by: [LIST:|HASH:]col[,col...][:N]; RANGE (no prefix) takes one or more columns,
# LIST exactly one, HASH one column with an optional modulus :N in 2..256, nothing else :N
# (pg_trickle src/api/helpers.rs, validate_partition_key). Groups: kind, columns, modulus.
PARTITION_PATTERN = (
    r"\s*(?:((?i:list|hash)):)?\s*([A-Za-z_][A-Za-z0-9_]*(?:\s*,\s*[A-Za-z_][A-Za-z0-9_]*)*)"
    r"(?::([0-9]+))?\s*\Z"
)
PARTITION_SINGLE_COLUMN = ("list", "hash")
PARTITION_MODULUS_KIND = "hash"  # the only kind that takes :N
PARTITION_MODULUS = (2, 256)


@dataclass(frozen=True)
class Combination:
    """``key`` must not be one of ``refused`` (None: must not be set at all) while ``other``
    is one of ``other_values``. The error names ``key``."""

    key: str
    refused: tuple[object, ...] | None
    other: str
    other_values: tuple[str, ...]
    accepted: str
    source: str


# pg_trickle src/api/alter.rs, create_stream_table_impl and alter_stream_table_impl, and
# src/api/mod.rs, enforce_cdc_refresh_mode_interaction.
COMBINATIONS: tuple[Combination, ...] = (
    Combination(
        "partition_by",
        None,
        "refresh_mode",
        ("IMMEDIATE",),
        "no partition_by with refresh_mode 'IMMEDIATE'",
        "src/api/alter.rs, create_stream_table_impl",
    ),
    Combination(
        "append_only",
        (True,),
        "refresh_mode",
        ("FULL", "IMMEDIATE"),
        "append_only only with refresh_mode 'DIFFERENTIAL' or 'AUTO'",
        "src/api/alter.rs, create_stream_table_impl / alter_stream_table_impl",
    ),
    Combination(
        "cdc_mode",
        ("wal",),
        "refresh_mode",
        ("IMMEDIATE",),
        "'auto' or 'trigger' with refresh_mode 'IMMEDIATE'",
        "src/api/mod.rs, enforce_cdc_refresh_mode_interaction",
    ),
    Combination(
        "orchestration_mode",
        ("EXTERNAL",),
        "refresh_mode",
        ("IMMEDIATE",),
        "'MANAGED' with refresh_mode 'IMMEDIATE'",
        "src/api/integration.rs, validate_mode_for_refresh",
    ),
    Combination(
        "target_freshness",
        (FRESHNESS.on_commit,),
        "refresh_mode",
        ("DIFFERENTIAL", "FULL"),
        "an interval or 'manual' unless refresh_mode is 'IMMEDIATE' or 'AUTO'",
        "src/api/create.rs / alter.rs, target_freshness",
    ),
    Combination(
        "diamond_schedule_policy",
        ("slowest",),
        "diamond_consistency",
        ("none",),
        "'fastest' unless diamond_consistency is 'atomic'",
        "src/api/alter.rs, create_stream_table_impl / alter_stream_table_impl",
    ),
)


def accepted(argument: Argument, *, surface: Surface = Surface.MODEL) -> str:
    """What an error message says ``argument`` accepts (the same text in Python and dbt)."""
    if argument.kind is Kind.WORD:
        words = argument.words
        if surface is Surface.MODEL and argument.model_words is not None:
            words = argument.model_words
        if surface is Surface.ALTER and argument.alter_words is not None:
            words = argument.alter_words
        text = ", ".join(f"'{w}'" for w in words)
        if argument.aliases:
            text += " (aliases: " + ", ".join(f"'{a}' = '{c}'" for a, c in argument.aliases.items())
            text += ")"
        return text + _default_note(argument)
    if argument.kind is Kind.BOOLEAN:
        return "true or false" + _default_note(argument)
    if argument.kind in (Kind.INTEGER, Kind.NUMBER):
        what = "an integer" if argument.kind is Kind.INTEGER else "a finite number"
        low = f"{argument.minimum:g}"
        if argument.maximum is None:
            text = f"{what} >= {low}"
        else:
            text = f"{what} in the range {low}..{int(argument.maximum)}"
        if argument.zero_means_no_limit:
            text += " (0 or unset: no limit)"
        return text
    if argument.kind is Kind.SCHEDULE:
        return (
            "a duration such as '30s', '5m', '1h30m' (units s m h d w; in the range "
            f"{SCHEDULE.min_seconds}s..{SCHEDULE.max_seconds}s) or bare seconds, a cron "
            "expression such as '*/5 * * * *' or '@hourly', or "
            f"'calculated' / none for CALCULATED (default '{SCHEDULE.default}')"
        )
    if argument.kind is Kind.FRESHNESS:
        return (
            "an interval such as '5m' or '1h30m' (units s m h d w; the server needs "
            "track_commit_timestamp = on), 'on_commit' (refresh_mode IMMEDIATE) or 'manual' "
            "(off pg_trickle's scheduler)"
        )
    if argument.kind is Kind.PARTITION:
        return (
            "'col[,col...]' (RANGE), 'LIST:col' (one column) or 'HASH:col[:N]' (one column, "
            "N in 2..256), naming output columns of the query"
        )
    return "a column name of the query"


def _default_note(argument: Argument) -> str:
    if argument.default is None:
        return " (default: not set)"
    if isinstance(argument.default, bool):
        return f" (default {'true' if argument.default else 'false'})"
    return f" (default '{argument.default}')"


def jinja_vocabulary() -> dict[str, object]:
    """The data the dbt package's check macros read (``pgtrickle_config_vocabulary()``)."""
    from airflow_provider_pgtrickle.capabilities import SUPPORTED, supported_text, version_key

    return {
        # The tested pg_trickle versions (`capabilities.SUPPORTED`), as inclusive ranges of
        # version number lists Jinja can compare, and in words (read by `pgtrickle_status`).
        "pg_trickle_versions": {
            "ranges": [
                [list(version_key(r.oldest)), list(version_key(r.newest))] for r in SUPPORTED
            ],
            "text": supported_text(),
        },
        "identifier": {
            "pattern": IDENTIFIER.pattern,
            "max_bytes": IDENTIFIER.max_bytes,
            "reserved_schema_prefix": IDENTIFIER.reserved_schema_prefix,
            "reserved_schemas": list(IDENTIFIER.reserved_schemas),
            "accepted": IDENTIFIER_ACCEPTED,
            "reserved_accepted": RESERVED_SCHEMA_ACCEPTED,
        },
        "schedule": {
            "calculated": SCHEDULE.calculated,
            "default": SCHEDULE.default,
            "units": dict(SCHEDULE.units),
            "seconds_pattern": SCHEDULE.seconds_pattern,
            "duration_pattern": SCHEDULE.duration_pattern,
            "part_pattern": SCHEDULE.part_pattern,
            "cron_aliases": list(SCHEDULE.cron_aliases),
            "cron_field_counts": list(SCHEDULE.cron_field_counts),
            "cron_field_pattern": SCHEDULE.cron_field_pattern,
            "cron_field_ranges": [list(r) for r in SCHEDULE.cron_field_ranges],
            "cron_seconds_range": list(SCHEDULE.cron_seconds_range),
            "min_seconds": SCHEDULE.min_seconds,
            "max_seconds": SCHEDULE.max_seconds,
            "scheduleless_modes": list(SCHEDULE.scheduleless_modes),
        },
        "boolean_words": dict(BOOLEAN_WORDS),
        "freshness": {"words": list(FRESHNESS.words), "with_schedule": FRESHNESS.with_schedule},
        "lifecycle_lock_sql": lifecycle.LOCK_SQL,
        "in_place_query_sql": lifecycle.IN_PLACE_QUERY_SQL,
        "auto_resolves_to": list(AUTO_RESOLVES_TO),
        "column_pattern": COLUMN_PATTERN,
        "partition": {
            "pattern": PARTITION_PATTERN,
            "single_column": list(PARTITION_SINGLE_COLUMN),
            "modulus": list(PARTITION_MODULUS),
            "modulus_kind": PARTITION_MODULUS_KIND,
        },
        "arguments": {
            a.name: {
                "kind": a.kind.value,
                "default": a.default,
                "words": list(a.model_words if a.model_words is not None else a.words),
                "upper": a.upper,
                "aliases": dict(a.aliases),
                "minimum": a.minimum,
                "maximum": a.maximum,
                "zero_means_no_limit": a.zero_means_no_limit,
                "accepted": accepted(a),
            }
            for a in arguments(Surface.MODEL)
        },
        "combinations": [
            {
                "key": c.key,
                "refused": None if c.refused is None else list(c.refused),
                "other": c.other,
                "other_values": list(c.other_values),
                "accepted": c.accepted,
            }
            for c in COMBINATIONS
        ],
    }


def _cell(value: object) -> str:
    if value is None:
        return "not set (pg_trickle's own)"
    if isinstance(value, bool):
        return f"`{'true' if value else 'false'}`"
    return f"`'{value}'`"


_SURFACE_NAMES = {Surface.CREATE: "create", Surface.ALTER: "alter", Surface.MODEL: "dbt"}


def reference_markdown() -> str:
    """The argument and combination tables of docs/reference/configuration.md (a test keeps
    the page equal to this)."""
    lines = [
        "| Argument | Where | Default | Accepted |",
        "|---|---|---|---|",
        "| `stream_table_name` / `stream_table_schema` | dbt (the hook and operators take "
        "`schema.table`) | the model's alias / schema | "
        + _IDENT_WORDS.replace("[a-z_][a-z0-9_]*", "`[a-z_][a-z0-9_]*`")
        + "; a schema must not be `pg_*`, "
        + ", ".join(f"`{s}`" for s in IDENTIFIER.reserved_schemas)
        + " |",
    ]
    for a in ARGUMENTS:
        where = ", ".join(_SURFACE_NAMES[s] for s in a.surfaces)
        text = accepted(
            a,
            surface=Surface.CREATE
            if Surface.CREATE in a.surfaces
            else Surface.ALTER
            if Surface.ALTER in a.surfaces
            else Surface.MODEL,
        )
        if a.model_words is not None:
            text += "; a dbt model: " + ", ".join(f"'{w}'" for w in a.model_words)
        if a.alter_words is not None:
            text += "; alter: " + ", ".join(f"'{w}'" for w in a.alter_words)
        text = text.replace("|", "\\|").replace("*", "\\*")
        lines.append(f"| `{a.name}` | {where} | {_cell(a.default)} | {text}. {DOCS[a.name]} |")
    lines += [
        "",
        "| Refused | With | pg_trickle source |",
        "|---|---|---|",
    ]
    for c in COMBINATIONS:
        value = (
            "any value"
            if c.refused is None
            else " or ".join(f"`{str(v).lower() if isinstance(v, bool) else v}`" for v in c.refused)
        )
        others = " or ".join(f"`{v}`" for v in c.other_values)
        lines.append(f"| `{c.key}` = {value} | `{c.other}` = {others} | {c.source} |")
    return "\n".join(lines) + "\n"


def jinja_macros() -> dict[str, str]:
    from airflow_provider_pgtrickle.vocabulary._jinja import render_macro

    path, content = render_macro(
        "pgtrickle_config_vocabulary",
        """
The stream table config vocabulary (airflow_provider_pgtrickle/vocabulary/config.py):
the tested pg_trickle versions (capabilities.SUPPORTED), identifier rule, schedule grammar,
every model config argument (kind, default - none means not managed -, accepted words,
aliases, ranges, the accepted text of its error) and the combinations pg_trickle refuses.
Read by the pgtrickle_check_* macros in macros/config/ and by pgtrickle_status.
Returns: dict.
""",
        jinja_vocabulary(),
    )
    return {path: content}
