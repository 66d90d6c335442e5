"""Creating stream tables (pg_trickle src/api/alter.rs, create_stream_table_impl;
src/api/create.rs)."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from airflow_provider_pgtrickle.testing.server import TestDatabase

from ._helpers import (
    SIMPLE_QUERY,
    Conn,
    assert_invalid_argument,
    assert_pg_error,
    call,
    content,
    create_st,
    history,
    make_source,
    messages,
    notices,
    query_result,
    regclass,
    row,
    rows,
    scalar,
    snapshot,
    st,
    wal_is_logical,
)


def test_13_03_create_with_initialize_populates(
    pgtrickle_db: TestDatabase, pgtrickle_conn: Conn
) -> None:
    conn = pgtrickle_conn
    make_source(conn)
    with conn.transaction():
        create_st(conn, "public.t", initialize=True)
        now = scalar(conn, "SELECT now()")
        entry = st(conn, "public.t")
    assert entry is not None
    assert entry["data_timestamp"] == now
    assert entry["last_refresh_at"] == now

    with pgtrickle_db.connect() as other:
        entry = st(other, "public.t")
        assert entry is not None
        assert entry["status"] == "ACTIVE"
        assert entry["is_populated"] is True
        assert entry["consecutive_errors"] == 0
        assert entry["effective_refresh_mode"] is not None
        assert entry["defining_query"] == SIMPLE_QUERY
        assert entry["original_query"] is None
        assert content(other, "public.t") == query_result(other, SIMPLE_QUERY)
        (initial,) = history(other, "public.t")
        assert initial["action"] == "FULL"
        assert initial["status"] == "COMPLETED"
        assert initial["initiated_by"] == "INITIAL"
        assert (initial["rows_inserted"], initial["rows_deleted"]) == (0, 0)
        assert initial["start_time"] == initial["end_time"] == now
        assert initial["data_timestamp"] == now


def test_13_04_create_without_initialize_then_manual_refresh(
    pgtrickle_db: TestDatabase, pgtrickle_conn: Conn
) -> None:
    conn = pgtrickle_conn
    make_source(conn)
    # A running scheduler refreshes an unpopulated table at its next tick whatever its tier
    # (pg_trickle src/scheduler/mod.rs, check_schedule), so the INITIALIZING state is read
    # inside the creating transaction, and the manual refresh runs there too.
    with conn.transaction():
        create_st(conn, "public.t", initialize=False)
        entry = st(conn, "public.t")
        assert entry is not None
        assert entry["status"] == "INITIALIZING"
        assert entry["is_populated"] is False
        for column in ("data_timestamp", "last_refresh_at", "frontier", "effective_refresh_mode"):
            assert entry[column] is None, column
        assert history(conn, "public.t") == []
        assert content(conn, "public.t") == []
        view = row(
            conn,
            "SELECT staleness, stale FROM pgtrickle.pg_stat_stream_tables WHERE pgt_name = 't'",
        )
        assert view == {"staleness": None, "stale": None}
        with pgtrickle_db.connect() as other:
            assert st(other, "public.t") is None

        call(conn, "refresh_stream_table", "public.t")

    with pgtrickle_db.connect() as other:
        entry = st(other, "public.t")
        assert entry is not None
        assert entry["status"] == "ACTIVE"
        assert entry["is_populated"] is True
        assert entry["last_refresh_at"] is not None
        assert entry["data_timestamp"] is not None
        assert content(other, "public.t") == query_result(other, SIMPLE_QUERY)
        (manual,) = history(other, "public.t")
        assert manual["initiated_by"] == "MANUAL"
        assert manual["action"] == "FULL"
        assert manual["status"] == "COMPLETED"
        assert manual["rows_inserted"] == 3
        assert manual["rows_deleted"] == 0


@pytest.mark.parametrize(
    ("word", "stored"),
    [
        ("AUTO", "DIFFERENTIAL"),
        ("auto", "DIFFERENTIAL"),
        ("Differential", "DIFFERENTIAL"),
        ("INCREMENTAL", "DIFFERENTIAL"),
        ("incremental", "DIFFERENTIAL"),
        ("FULL", "FULL"),
        ("full", "FULL"),
        ("IMMEDIATE", "IMMEDIATE"),
        ("Immediate", "IMMEDIATE"),
    ],
)
def test_13_05_refresh_mode_words_are_case_insensitive(
    pgtrickle_conn: Conn, word: str, stored: str
) -> None:
    make_source(pgtrickle_conn)
    create_st(pgtrickle_conn, "public.t", refresh_mode=word)
    assert st(pgtrickle_conn, "public.t")["refresh_mode"] == stored  # type: ignore[index]


def test_13_05_default_mode_auto_is_stored_as_differential(pgtrickle_conn: Conn) -> None:
    make_source(pgtrickle_conn)
    call(pgtrickle_conn, "create_stream_table", name="public.t", query=SIMPLE_QUERY)
    assert st(pgtrickle_conn, "public.t")["refresh_mode"] == "DIFFERENTIAL"  # type: ignore[index]


def test_13_05_catalog_never_contains_auto(pgtrickle_conn: Conn) -> None:
    make_source(pgtrickle_conn)
    create_st(pgtrickle_conn, "public.t", refresh_mode="AUTO")
    assert (
        scalar(
            pgtrickle_conn,
            "SELECT count(*) FROM pgtrickle.pgt_stream_tables"
            " WHERE refresh_mode NOT IN ('FULL', 'DIFFERENTIAL', 'IMMEDIATE')",
        )
        == 0
    )
    with pytest.raises(psycopg.Error) as err:
        pgtrickle_conn.execute("UPDATE pgtrickle.pgt_stream_tables SET refresh_mode = 'AUTO'")
    assert_pg_error(
        err.value,
        "23514",
        'new row for relation "pgt_stream_tables" violates check constraint'
        ' "pgt_stream_tables_refresh_mode_check"',
    )


@pytest.mark.parametrize(("word", "echo"), [("foo", "FOO"), ("Paused", "PAUSED")])
def test_03_2_unknown_refresh_mode(pgtrickle_conn: Conn, word: str, echo: str) -> None:
    make_source(pgtrickle_conn)
    before = snapshot(pgtrickle_conn)
    with pytest.raises(psycopg.Error) as err:
        create_st(pgtrickle_conn, "public.t", refresh_mode=word)
    assert_pg_error(
        err.value,
        "22023",
        f"invalid argument: unknown refresh mode: {echo}."
        " Must be 'AUTO', 'FULL', 'DIFFERENTIAL', or 'IMMEDIATE'",
    )
    assert snapshot(pgtrickle_conn) == before


def test_13_07_duplicate_create_fails_without_side_effects(
    pgtrickle_db: TestDatabase, pgtrickle_conn: Conn
) -> None:
    make_source(pgtrickle_conn)
    create_st(pgtrickle_conn, "public.t")
    with pgtrickle_db.connect() as other:
        before = snapshot(other, "public.t")
    with pytest.raises(psycopg.Error) as err:
        create_st(pgtrickle_conn, "public.t", "SELECT id FROM src", schedule="5m")
    assert_pg_error(err.value, "42P07", "stream table already exists: public.t")
    with pgtrickle_db.connect() as other:
        assert snapshot(other, "public.t") == before


def test_13_07_duplicate_unqualified_name_prints_schema(pgtrickle_conn: Conn) -> None:
    make_source(pgtrickle_conn)
    create_st(pgtrickle_conn, "t")
    with pytest.raises(psycopg.Error) as err:
        create_st(pgtrickle_conn, "t")
    assert_pg_error(err.value, "42P07", "stream table already exists: public.t")


def test_04_1_query_analysis_precedes_duplicate_check(pgtrickle_conn: Conn) -> None:
    make_source(pgtrickle_conn)
    create_st(pgtrickle_conn, "public.t")
    with pytest.raises(psycopg.Error) as err:
        create_st(pgtrickle_conn, "public.t", "SELECT id, v FROM src LIMIT 1")
    assert_pg_error(err.value, "0A000")


def test_04_1_ordinary_table_with_same_name_is_postgres_error(pgtrickle_conn: Conn) -> None:
    make_source(pgtrickle_conn)
    pgtrickle_conn.execute("CREATE TABLE plain (x integer)")
    before = snapshot(pgtrickle_conn)
    with pytest.raises(psycopg.Error) as err:
        create_st(pgtrickle_conn, "public.plain")
    assert_pg_error(err.value, "42P07", 'relation "plain" already exists')
    assert snapshot(pgtrickle_conn) == before


def test_13_08_create_if_not_exists_on_existing_is_silent_noop(
    pgtrickle_db: TestDatabase, pgtrickle_conn: Conn
) -> None:
    make_source(pgtrickle_conn)
    create_st(pgtrickle_conn, "public.t")
    with pgtrickle_db.connect() as other:
        before = snapshot(other, "public.t")
    # The new arguments are not even validated.
    with notices(pgtrickle_conn) as seen:
        call(
            pgtrickle_conn,
            "create_stream_table_if_not_exists",
            name="public.t",
            query="SELECT 1",
            schedule="bogus",
            refresh_mode="nonsense",
        )
    assert "Stream table public.t already exists \u2014 skipping creation." in messages(
        seen, "INFO"
    )
    with pgtrickle_db.connect() as other:
        assert snapshot(other, "public.t") == before


def test_13_08_create_if_not_exists_creates_when_absent(pgtrickle_conn: Conn) -> None:
    make_source(pgtrickle_conn)
    call(
        pgtrickle_conn,
        "create_stream_table_if_not_exists",
        name="public.t",
        query=SIMPLE_QUERY,
        schedule="1h",
        refresh_mode="DIFFERENTIAL",
    )
    entry = st(pgtrickle_conn, "public.t")
    assert entry is not None
    assert (entry["status"], entry["refresh_mode"], entry["schedule"]) == (
        "ACTIVE",
        "DIFFERENTIAL",
        "1h",
    )
    assert [h["initiated_by"] for h in history(pgtrickle_conn, "public.t")] == ["INITIAL"]
    assert content(pgtrickle_conn, "public.t") == query_result(pgtrickle_conn, SIMPLE_QUERY)


def test_04_1_failing_initial_population_leaves_nothing(pgtrickle_conn: Conn) -> None:
    make_source(pgtrickle_conn)
    before = snapshot(pgtrickle_conn)
    with pytest.raises(psycopg.errors.DivisionByZero):
        create_st(pgtrickle_conn, "public.t", "SELECT id, 100 / (v - 20) AS q FROM src")
    assert snapshot(pgtrickle_conn) == before
    assert regclass(pgtrickle_conn, "public.t") is None


NO_LOGICAL_WAL = "invalid argument: pg_trickle.cdc_mode = 'wal' requires wal_level = logical"

# (query, kwargs, sqlstate, exact message or None, message prefix or None)
QUERY_ERRORS: list[tuple[str, dict[str, Any], str, str | None, str | None]] = [
    (
        "SELECT id, v FROM src; SELECT id, v FROM src",
        {},
        "42000",
        "query parse error: Expected 1 statement, got 2",
        None,
    ),
    # pg_trickle src/api/mod.rs, validate_and_parse_query: a query without tables is refused
    # by the incremental parser first where one runs (DIFFERENTIAL, IMMEDIATE; its message
    # goes on with parse-tree fields), else when the tables are collected (FULL, and AUTO
    # after falling back to FULL).
    (
        "SELECT 1 AS x",
        {},
        "42000",
        None,
        "query parse error: Defining query must have a FROM clause (",
    ),
    *(
        (
            "SELECT 1 AS x",
            {"refresh_mode": mode},
            "42000",
            "query parse error: Defining query references no tables",
            None,
        )
        for mode in ("FULL", "AUTO")
    ),
    (
        "SELECT FROM src",
        {},
        "42000",
        "query parse error: Defining query returns no columns",
        None,
    ),
    *(
        (
            "SELECT id, v FROM src LIMIT 2",
            {"refresh_mode": mode},
            "0A000",
            None,
            "unsupported operator for DIFFERENTIAL mode: LIMIT is not supported in defining"
            " queries without ORDER BY.",
        )
        for mode in ("FULL", "DIFFERENTIAL", "AUTO")
    ),
    (
        SIMPLE_QUERY,
        {"refresh_mode": "FULL", "append_only": True},
        "22023",
        "invalid argument: append_only is not supported with FULL refresh mode."
        " Use DIFFERENTIAL or AUTO refresh mode.",
        None,
    ),
    (
        SIMPLE_QUERY,
        {"cdc_mode": "x"},
        "22023",
        "invalid argument: invalid cdc_mode value: 'x' (expected 'auto', 'trigger', or 'wal')",
        None,
    ),
]


@pytest.mark.parametrize(
    ("query", "kwargs", "sqlstate", "message", "prefix"),
    QUERY_ERRORS,
    ids=[
        "two-statements",
        "no-from",
        "no-table-full",
        "no-table-auto",
        "no-columns",
        "limit-full",
        "limit-diff",
        "limit-auto",
        "append-full",
        "cdc-x",
    ],
)
def test_04_1_create_errors(  # noqa: PLR0917
    pgtrickle_conn: Conn,
    query: str,
    kwargs: dict[str, Any],
    sqlstate: str,
    message: str | None,
    prefix: str | None,
) -> None:
    make_source(pgtrickle_conn)
    before = snapshot(pgtrickle_conn)
    with pytest.raises(psycopg.Error) as err:
        create_st(pgtrickle_conn, "public.t", query, **kwargs)
    assert_pg_error(err.value, sqlstate, message, prefix=prefix)
    assert snapshot(pgtrickle_conn) == before


def test_04_1_offset_without_order_by_limit_is_rejected(pgtrickle_conn: Conn) -> None:
    make_source(pgtrickle_conn)
    before = snapshot(pgtrickle_conn)
    with pytest.raises(psycopg.Error):
        create_st(pgtrickle_conn, "public.t", "SELECT id, v FROM src ORDER BY id OFFSET 1")
    assert snapshot(pgtrickle_conn) == before


def test_03_4_wal_cdc_requires_logical_wal(pgtrickle_conn: Conn) -> None:
    """Mirrors pg_trickle src/api/mod.rs, validate_requested_cdc_mode_requirements: it asks
    src/cdc/rebuild.rs, can_use_logical_replication_for_mode, which itself refuses 'wal'
    without logical WAL, in its own words (naming the GUC). The "... and an available
    replication slot" text is only reached with logical WAL and no free slot."""
    if wal_is_logical(pgtrickle_conn):
        pytest.skip("wal_level = logical on this server: 'wal' is accepted")
    make_source(pgtrickle_conn)
    before = snapshot(pgtrickle_conn)
    with pytest.raises(psycopg.Error) as err:
        create_st(pgtrickle_conn, "public.t", cdc_mode="wal")
    assert_pg_error(err.value, "22023", NO_LOGICAL_WAL)
    assert snapshot(pgtrickle_conn) == before


@pytest.mark.parametrize(("given", "stored"), [(" Trigger ", "trigger"), ("AUTO", "auto")])
def test_03_4_cdc_mode_is_trimmed_and_lower_cased(
    pgtrickle_conn: Conn, given: str, stored: str
) -> None:
    make_source(pgtrickle_conn)
    create_st(pgtrickle_conn, "public.t", cdc_mode=given)
    assert st(pgtrickle_conn, "public.t")["requested_cdc_mode"] == stored  # type: ignore[index]


def test_03_4_cdc_mode_null_follows_guc(pgtrickle_conn: Conn) -> None:
    make_source(pgtrickle_conn)
    create_st(pgtrickle_conn, "public.t")
    assert st(pgtrickle_conn, "public.t")["requested_cdc_mode"] is None  # type: ignore[index]


@pytest.mark.parametrize(
    ("kwargs", "text", "prefix"),
    [
        (
            {"diamond_consistency": "x"},
            "invalid diamond_consistency value: 'x' (expected 'none' or 'atomic')",
            False,
        ),
        (
            {"diamond_consistency": "none", "diamond_schedule_policy": "slowest"},
            "diamond_schedule_policy = 'slowest' requires diamond_consistency = 'atomic'.",
            True,
        ),
    ],
    ids=["consistency-x", "slowest-needs-atomic"],
)
def test_03_5_diamond_setting_errors(
    pgtrickle_conn: Conn, kwargs: dict[str, Any], text: str, prefix: bool
) -> None:
    make_source(pgtrickle_conn)
    before = snapshot(pgtrickle_conn)
    with pytest.raises(psycopg.Error) as err:
        create_st(pgtrickle_conn, "public.t", **kwargs)
    assert_invalid_argument(err.value, text, prefix=prefix)
    assert snapshot(pgtrickle_conn) == before


def test_03_5_diamond_defaults_and_case(pgtrickle_conn: Conn) -> None:
    make_source(pgtrickle_conn)
    create_st(pgtrickle_conn, "public.a")
    create_st(pgtrickle_conn, "public.b", diamond_consistency="NONE")
    found = rows(
        pgtrickle_conn,
        "SELECT pgt_name, diamond_consistency, diamond_schedule_policy"
        " FROM pgtrickle.pgt_stream_tables ORDER BY pgt_name",
    )
    assert found == [
        {"pgt_name": "a", "diamond_consistency": "atomic", "diamond_schedule_policy": "fastest"},
        {"pgt_name": "b", "diamond_consistency": "none", "diamond_schedule_policy": "fastest"},
    ]


@pytest.mark.parametrize(
    ("kwargs", "sqlstate"),
    [
        # refresh-mode word is checked before the schedule
        ({"refresh_mode": "bogus", "schedule": "5x"}, "22023"),
        # schedule before cdc_mode
        ({"schedule": "5x", "cdc_mode": "x"}, "22023"),
        # cdc_mode before the query
        ({"cdc_mode": "x", "query": "SELECT 1; SELECT 2"}, "22023"),
    ],
    ids=["mode-before-schedule", "schedule-before-cdc", "cdc-before-query"],
)
def test_04_1_first_failing_check_wins(
    pgtrickle_conn: Conn, kwargs: dict[str, Any], sqlstate: str
) -> None:
    make_source(pgtrickle_conn)
    args = {"query": SIMPLE_QUERY, **kwargs}
    with pytest.raises(psycopg.Error) as err:
        create_st(pgtrickle_conn, "public.t", **args)
    first = next(iter(kwargs))
    expected_start = {
        "refresh_mode": "invalid argument: unknown refresh mode:",
        "schedule": "invalid argument: invalid duration unit",
        "cdc_mode": "invalid argument: invalid cdc_mode value:",
    }[first]
    assert_pg_error(err.value, sqlstate, prefix=expected_start)


VOLATILE_PREFIX = (
    "unsupported operator for DIFFERENTIAL mode: Defining query contains volatile expressions"
)


@pytest.mark.parametrize("mode", ["DIFFERENTIAL", "AUTO"])
def test_04_1_volatile_function_is_rejected_unless_full(pgtrickle_conn: Conn, mode: str) -> None:
    make_source(pgtrickle_conn)
    before = snapshot(pgtrickle_conn)
    query = "SELECT id, random() AS r FROM src"
    with pytest.raises(psycopg.Error) as err:
        create_st(pgtrickle_conn, "public.t", query, refresh_mode=mode)
    assert_pg_error(err.value, "0A000", prefix=VOLATILE_PREFIX)
    assert snapshot(pgtrickle_conn) == before
    create_st(pgtrickle_conn, "public.t", query, refresh_mode="FULL")
    assert st(pgtrickle_conn, "public.t") is not None


def test_04_1_output_distribution_column_needs_citus(pgtrickle_conn: Conn) -> None:
    if scalar(pgtrickle_conn, "SELECT count(*) FROM pg_extension WHERE extname = 'citus'"):
        pytest.skip("Citus is installed on this server")
    make_source(pgtrickle_conn)
    before = snapshot(pgtrickle_conn)
    with pytest.raises(psycopg.Error) as err:
        create_st(pgtrickle_conn, "public.t", output_distribution_column="id")
    message = err.value.diag.message_primary or ""
    assert message.endswith("output_distribution_column requires Citus to be installed and loaded")
    assert snapshot(pgtrickle_conn) == before


def test_03_4_immediate_with_wal_cdc_is_rejected(pgtrickle_conn: Conn) -> None:
    make_source(pgtrickle_conn)
    before = snapshot(pgtrickle_conn)
    with pytest.raises(psycopg.Error) as err:
        create_st(
            pgtrickle_conn, "public.t", schedule=None, refresh_mode="IMMEDIATE", cdc_mode="wal"
        )
    incompatible = (
        "invalid argument: refresh_mode = 'IMMEDIATE' is incompatible with cdc_mode = 'wal'."
    )
    if wal_is_logical(pgtrickle_conn):
        assert_pg_error(err.value, "22023", prefix=incompatible)
    else:
        # Either cdc_mode check is accepted without logical WAL (pg_trickle src/api/alter.rs,
        # create_stream_table_impl: enforce_cdc_refresh_mode_interaction, then
        # validate_requested_cdc_mode_requirements).
        primary = err.value.diag.message_primary or ""
        assert err.value.sqlstate == "22023"
        assert primary.startswith((incompatible, NO_LOGICAL_WAL)), primary
    assert snapshot(pgtrickle_conn) == before


def test_topk_stores_base_query_and_keeps_the_user_text(pgtrickle_conn: Conn) -> None:
    """Mirrors pg_trickle src/api/alter.rs: create_stream_table_impl: for TopK the catalog's
    defining_query is the base query (ORDER BY / LIMIT / OFFSET stripped, kept in topk_*),
    and original_query is the user's text because it differs from what is stored."""
    make_source(pgtrickle_conn)
    query = "SELECT id, v FROM src ORDER BY v DESC LIMIT 2 OFFSET 1"
    create_st(pgtrickle_conn, "public.t", query)
    entry = st(pgtrickle_conn, "public.t")
    assert entry is not None
    assert entry["defining_query"] == "SELECT id, v FROM src"
    assert entry["original_query"] == query
    assert (entry["topk_limit"], entry["topk_offset"]) == (2, 1)


@pytest.mark.parametrize(
    ("order_by", "stored"),
    [
        ("v desc, id", "v DESC, id"),
        ("V Asc  NULLS   last ,ID", "v ASC NULLS LAST, id"),
        ('src.v DESC, "id"', '"src"."v" DESC, id'),
        ("2 desc", "2 DESC"),
    ],
)
def test_topk_order_by_is_stored_as_pg_trickle_deparses_it(
    pgtrickle_conn: Conn, order_by: str, stored: str
) -> None:
    """Mirrors pg_trickle src/dvm/parser/sublinks/mod.rs: deparse_sort_clause: topk_order_by
    is rebuilt from the parse tree (direction and NULLS in capitals, names as parsed, a
    qualified column quoted), not the user's spelling; the refresh then orders by it."""
    make_source(pgtrickle_conn)
    create_st(pgtrickle_conn, "public.t", f"SELECT id, v FROM src ORDER BY {order_by} LIMIT 2")
    entry = st(pgtrickle_conn, "public.t")
    assert entry is not None
    assert entry["topk_order_by"] == stored
    expected = [(2, 20), (3, 30)] if "desc" in order_by.lower() else [(1, 10), (2, 20)]
    assert pgtrickle_conn.execute("SELECT id, v FROM public.t ORDER BY id").fetchall() == expected


SELECT_STAR_WARNING = (
    "pg_trickle: defining query uses SELECT *. If source table columns are added or removed,"
    " the stream table will require reinitialization. Consider listing columns explicitly"
    " for resilience against schema changes."
)


@pytest.mark.parametrize(
    ("query", "warned"),
    [
        ("SELECT * FROM src", True),
        ("SELECT src.* FROM src", True),
        ("SELECT count(*) AS n FROM src", False),
        (SIMPLE_QUERY, False),
    ],
)
def test_select_star_warns(pgtrickle_conn: Conn, query: str, warned: bool) -> None:
    """Mirrors pg_trickle src/api/helpers.rs: warn_select_star / detect_select_star, called by
    create_stream_table_impl (src/api/alter.rs): a WARNING for a top-level `*` in the select
    list; count(*) is not one."""
    make_source(pgtrickle_conn)
    with notices(pgtrickle_conn) as seen:
        create_st(pgtrickle_conn, "public.t", query, refresh_mode="FULL")
    assert (SELECT_STAR_WARNING in messages(seen, "WARNING")) is warned
