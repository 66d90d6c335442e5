"""pg_trickle sql/archive/pg_trickle--0.67.0.sql: argument names, types and defaults, checked
through pg_proc and by calling (argument lists per version in `SIGNATURES`)."""

from __future__ import annotations

import pytest

from . import _v0108 as v0108
from ._helpers import Conn, call, create_st, make_source, row, st
from ._versions import V0108, V067, expected

# 0.67.0: the arguments 0.108.3 also has, then the DuckLake sink's (removed in 0.76.1).
CREATE_ARGS = [
    *v0108.CREATE_COMMON_ARGS,
    ("sink", "text", "NULL::text"),
    ("ducklake_sink_path", "text", "NULL::text"),
    ("ducklake_sink_table_id", "bigint", "NULL::bigint"),
]

ALTER_ARGS = v0108.alter_args(
    ("sink", "text"), ("ducklake_sink_path", "text"), ("ducklake_sink_table_id", "bigint")
)

_SHARED: dict[str, tuple[list[tuple[str, str, str | None]], bool]] = {
    "drop_stream_table": ([("name", "text", None), ("cascade", "boolean", "false")], True),
    "refresh_stream_table": ([("name", "text", None)], True),
    "resume_stream_table": ([("name", "text", None)], True),
    "get_refresh_history": (
        [("name", "text", None), ("max_rows", "integer", "20")],
        True,
    ),
}
# Per version: 0.67.0 from git tag v0.67.0 sql/archive/pg_trickle--0.67.0.sql (the pgrx
# wrappers of src/api/create.rs create_stream_table / create_stream_table_if_not_exists /
# create_or_replace_stream_table, src/api/alter.rs alter_stream_table); 0.108.3 from
# sql/archive/pg_trickle--0.108.3.sql at 65486072 (the same functions without the DuckLake sink
# arguments, with fillfactor / target_freshness / orchestration_mode; see `_v0108.py`).
SIGNATURES: dict[str, dict[str, tuple[list[tuple[str, str, str | None]], bool]]] = {
    V067: {
        "create_stream_table": (CREATE_ARGS, False),
        "create_stream_table_if_not_exists": (CREATE_ARGS, False),
        "create_or_replace_stream_table": (CREATE_ARGS[:16], False),
        "alter_stream_table": (ALTER_ARGS, False),
        **_SHARED,
    },
    V0108: {
        "create_stream_table": (v0108.CREATE_ARGS, False),
        "create_stream_table_if_not_exists": (v0108.CREATE_ARGS, False),
        "create_or_replace_stream_table": (
            [*v0108.CREATE_COMMON_ARGS, ("orchestration_mode", "text", "NULL::text")],
            False,
        ),
        "alter_stream_table": (v0108.ALTER_ARGS, False),
        **_SHARED,
    },
}

# get_refresh_history RETURNS TABLE (...), per version: sql/archive/pg_trickle--0.67.0.sql;
# sql/archive/pg_trickle--0.108.3.sql (rows_updated in the middle, two reason columns last).
_HISTORY_HEAD = (
    "TABLE(refresh_id bigint, data_timestamp timestamp with time zone,"
    " start_time timestamp with time zone, end_time timestamp with time zone, action text,"
    " status text, rows_inserted bigint,"
)
RESULTS = {
    V067: {
        "get_refresh_history": _HISTORY_HEAD
        + " rows_deleted bigint, duration_ms double precision, error_message text)",
    },
    V0108: {
        "get_refresh_history": _HISTORY_HEAD
        + " rows_updated bigint, rows_deleted bigint, duration_ms double precision,"
        " error_message text, refresh_reason text, refresh_reason_detail text)",
    },
}

VOID_FUNCTIONS = set(SIGNATURES[V067]) - set(RESULTS[V067])


def render(args: list[tuple[str, str, str | None]]) -> str:
    return ", ".join(
        f"{name} {typ}" + ("" if default is None else f" DEFAULT {default}")
        for name, typ, default in args
    )


@pytest.mark.parametrize("function", list(SIGNATURES[V067]))
def test_13_24_argument_names_and_defaults(
    pgtrickle_conn: Conn, pgtrickle_version: str, function: str
) -> None:
    """One overload per function; its input arguments' names, types and defaults (what
    named-notation calls resolve against), STRICT and the result, per version (see
    `SIGNATURES` and `RESULTS`)."""
    args, strict = expected(pgtrickle_version, SIGNATURES)[function]
    results = expected(pgtrickle_version, RESULTS)
    # proargnames also lists a RETURNS TABLE function's result columns (mode 't'): only
    # the input arguments are compared here, the result by RESULTS below. proargmodes is
    # NULL when every argument is an input, and unnest pads it with NULLs.
    found = row(
        pgtrickle_conn,
        "SELECT count(*) OVER () AS overloads,"
        " (SELECT array_agg(a.name ORDER BY a.n) FROM unnest(p.proargnames, p.proargmodes)"
        "  WITH ORDINALITY AS a(name, mode, n) WHERE a.mode IS NULL OR a.mode IN ('i', 'b', 'v'))"
        " AS input_names,"
        " p.pronargs, p.pronargdefaults,"
        " pg_get_function_arguments(p.oid) AS arguments, p.proisstrict,"
        " format_type(p.prorettype, NULL) AS returns,"
        " pg_get_function_result(p.oid) AS result"
        " FROM pg_proc p WHERE p.pronamespace = 'pgtrickle'::regnamespace AND p.proname = %s",
        [function],
    )
    assert found is not None, function
    assert found["overloads"] == 1
    assert found["input_names"] == [name for name, _, _ in args]
    assert found["pronargs"] == len(args)
    assert found["pronargdefaults"] == sum(default is not None for _, _, default in args)
    assert found["arguments"] == render(args)
    assert found["proisstrict"] is strict
    if function in VOID_FUNCTIONS:
        assert found["returns"] == "void"
    else:
        assert found["result"] == results[function]


def test_13_24_named_notation_calls(pgtrickle_conn: Conn) -> None:
    conn = pgtrickle_conn
    make_source(conn)
    call(
        conn,
        "create_stream_table",
        name="public.a",
        query="SELECT id, v FROM src",
        schedule="1h",
        refresh_mode="DIFFERENTIAL",
        initialize=True,
        diamond_consistency="atomic",
        diamond_schedule_policy="fastest",
        cdc_mode="trigger",
        append_only=False,
        pooler_compatibility_mode=False,
    )
    call(
        conn,
        "create_stream_table",
        name="public.b",
        query="SELECT id, v FROM public.a",
        schedule="1h",
    )
    call(conn, "alter_stream_table", name="public.a", schedule="2h", tier="warm")
    call(conn, "refresh_stream_table", name="public.a")
    call(conn, "alter_stream_table", name="public.a", status="SUSPENDED")
    call(conn, "resume_stream_table", name="public.a")
    assert st(conn, "public.a")["schedule"] == "2h"  # type: ignore[index]
    assert len(conn.execute(
        "SELECT * FROM pgtrickle.get_refresh_history(name => 'public.a', max_rows => 1)"
    ).fetchall()) == 1  # fmt: skip
    call(conn, "drop_stream_table", name="public.a", cascade=True)
    assert st(conn, "public.a") is None
    assert st(conn, "public.b") is None


def positional_16(name: str, query: str, *, initialize: bool = True) -> list[object]:
    """The 16 positional arguments the upstream dbt macros pass."""
    return [
        name, query, "1h", "DIFFERENTIAL", initialize, None, None, None,
        False, False, None, None, None, None, False, None,
    ]  # fmt: skip


@pytest.mark.parametrize(
    "function",
    ["create_stream_table", "create_stream_table_if_not_exists", "create_or_replace_stream_table"],
)
def test_13_24_sixteen_positional_arguments(pgtrickle_conn: Conn, function: str) -> None:
    make_source(pgtrickle_conn)
    call(pgtrickle_conn, function, *positional_16("public.t", "SELECT id, v FROM src"))
    entry = st(pgtrickle_conn, "public.t")
    assert entry is not None
    assert (entry["schedule"], entry["refresh_mode"], entry["status"]) == (
        "1h", "DIFFERENTIAL", "ACTIVE"
    )  # fmt: skip


def test_13_24_sixteen_positional_replace_of_existing(pgtrickle_conn: Conn) -> None:
    make_source(pgtrickle_conn)
    create_st(pgtrickle_conn, "public.t")
    call(
        pgtrickle_conn,
        "create_or_replace_stream_table",
        *positional_16("public.t", "SELECT id FROM src"),
    )
    entry = st(pgtrickle_conn, "public.t")
    assert entry is not None
    assert entry["defining_query"] == "SELECT id FROM src"
