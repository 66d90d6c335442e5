"""alter_stream_table (pg_trickle src/api/alter.rs, alter_stream_table_impl)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from uuid import uuid4

import psycopg
import pytest
from psycopg import sql

from airflow_provider_pgtrickle.testing.server import TestDatabase

from ._helpers import (
    SIMPLE_QUERY,
    Conn,
    as_role,
    assert_invalid_argument,
    assert_pg_error,
    call,
    content,
    create_st,
    history,
    make_source,
    other_role,
    query_result,
    set_catalog,
    snapshot,
    st,
)
from ._versions import refused

CHECK_MODE = (
    'new row for relation "pgt_stream_tables" violates check constraint'
    ' "pgt_stream_tables_refresh_mode_check"'
)
STABLE_COLUMNS = (
    "pgt_id", "pgt_relid", "defining_query", "schedule", "refresh_mode", "status",
    "is_populated", "data_timestamp", "last_refresh_at", "diamond_consistency",
    "diamond_schedule_policy", "requested_cdc_mode", "is_append_only", "refresh_tier",
    "fuse_mode", "max_differential_joins", "max_delta_fraction",
)  # fmt: skip


def alter(conn: Conn, name: str, **kwargs: Any) -> None:
    call(conn, "alter_stream_table", name, **kwargs)


def test_13_10_null_arguments_leave_everything_unchanged(
    pgtrickle_db: TestDatabase, pgtrickle_conn: Conn
) -> None:
    make_source(pgtrickle_conn)
    create_st(pgtrickle_conn, "public.t")
    before = st(pgtrickle_conn, "public.t")
    assert before is not None
    alter(pgtrickle_conn, "public.t")
    alter(
        pgtrickle_conn,
        "public.t",
        query=None,
        schedule=None,
        refresh_mode=None,
        status=None,
        cdc_mode=None,
        tier=None,
    )
    with pgtrickle_db.connect() as other:
        after = st(other, "public.t")
        assert after is not None
        assert {c: after[c] for c in STABLE_COLUMNS} == {c: before[c] for c in STABLE_COLUMNS}
        assert len(history(other, "public.t")) == 1
        assert content(other, "public.t") == query_result(other, SIMPLE_QUERY)


@pytest.mark.parametrize("word", ["calculated", "CALCULATED", " Calculated "])
def test_13_10_calculated_sets_null_schedule(pgtrickle_conn: Conn, word: str) -> None:
    make_source(pgtrickle_conn)
    create_st(pgtrickle_conn, "public.t", schedule="1h")
    alter(pgtrickle_conn, "public.t", schedule=word)
    assert st(pgtrickle_conn, "public.t")["schedule"] is None  # type: ignore[index]


def test_13_10_schedule_is_stored_trimmed(pgtrickle_conn: Conn) -> None:
    make_source(pgtrickle_conn)
    create_st(pgtrickle_conn, "public.t", schedule="calculated")
    alter(pgtrickle_conn, "public.t", schedule=" 2h ")
    assert st(pgtrickle_conn, "public.t")["schedule"] == "2h"  # type: ignore[index]


@pytest.mark.parametrize(
    ("word", "stored"),
    [
        ("SUSPENDED", "SUSPENDED"),
        ("suspended", "SUSPENDED"),
        ("Error", "ERROR"),
        ("initializing", "INITIALIZING"),
        ("active", "ACTIVE"),
    ],
)
def test_13_10_status_accepts_the_four_statuses(
    pgtrickle_conn: Conn, word: str, stored: str
) -> None:
    make_source(pgtrickle_conn)
    create_st(pgtrickle_conn, "public.t")
    alter(pgtrickle_conn, "public.t", status=word)
    assert st(pgtrickle_conn, "public.t")["status"] == stored  # type: ignore[index]


def test_13_10_status_paused_is_rejected(pgtrickle_db: TestDatabase, pgtrickle_conn: Conn) -> None:
    make_source(pgtrickle_conn)
    create_st(pgtrickle_conn, "public.t")
    before = snapshot(pgtrickle_conn, "public.t")
    with pytest.raises(psycopg.Error) as err:
        alter(pgtrickle_conn, "public.t", status="PAUSED")
    assert_pg_error(err.value, "22023", "invalid argument: unknown status: PAUSED")
    with pgtrickle_db.connect() as other:
        assert snapshot(other, "public.t") == before


def test_13_10_status_active_zeroes_consecutive_errors(pgtrickle_conn: Conn) -> None:
    make_source(pgtrickle_conn)
    create_st(pgtrickle_conn, "public.t")
    alter(pgtrickle_conn, "public.t", status="SUSPENDED")
    set_catalog(pgtrickle_conn, "public.t", {"consecutive_errors": 3})
    alter(pgtrickle_conn, "public.t", status="ACTIVE")
    entry = st(pgtrickle_conn, "public.t")
    assert entry is not None
    assert (entry["status"], entry["consecutive_errors"]) == ("ACTIVE", 0)


@pytest.mark.parametrize("word", ["AUTO", "auto", "INCREMENTAL"])
def test_13_10_refresh_mode_auto_is_check_violation(
    pgtrickle_db: TestDatabase, pgtrickle_conn: Conn, word: str
) -> None:
    make_source(pgtrickle_conn)
    create_st(pgtrickle_conn, "public.t", refresh_mode="FULL")
    before = snapshot(pgtrickle_conn, "public.t")
    with pytest.raises(psycopg.Error) as err:
        alter(pgtrickle_conn, "public.t", refresh_mode=word)
    assert_pg_error(err.value, "23514", CHECK_MODE)
    with pgtrickle_db.connect() as other:
        assert snapshot(other, "public.t") == before


def test_13_10_mode_change_repopulates_without_history(
    pgtrickle_db: TestDatabase, pgtrickle_conn: Conn
) -> None:
    make_source(pgtrickle_conn)
    create_st(pgtrickle_conn, "public.t", refresh_mode="DIFFERENTIAL")
    pgtrickle_conn.execute("INSERT INTO src VALUES (4, 40), (5, 50)")
    pgtrickle_conn.execute("DELETE FROM src WHERE id = 1")
    alter(pgtrickle_conn, "public.t", refresh_mode="FULL")
    with pgtrickle_db.connect() as other:
        entry = st(other, "public.t")
        assert entry is not None
        assert (entry["refresh_mode"], entry["status"], entry["schedule"]) == (
            "FULL",
            "ACTIVE",
            "1h",
        )
        assert content(other, "public.t") == query_result(other, SIMPLE_QUERY)
        assert len(history(other, "public.t")) == 1


def test_13_10_query_change_repopulates_without_history(
    pgtrickle_db: TestDatabase, pgtrickle_conn: Conn
) -> None:
    make_source(pgtrickle_conn)
    create_st(pgtrickle_conn, "public.t")
    before = st(pgtrickle_conn, "public.t")
    assert before is not None
    new_query = "SELECT id, v, v + 1 AS w FROM src"
    alter(pgtrickle_conn, "public.t", query=new_query)
    with pgtrickle_db.connect() as other:
        entry = st(other, "public.t")
        assert entry is not None
        assert entry["pgt_id"] == before["pgt_id"]
        assert entry["defining_query"] == new_query
        assert entry["status"] == "ACTIVE"
        assert content(other, "public.t") == query_result(other, new_query)
        assert len(history(other, "public.t")) == 1


@pytest.mark.parametrize(
    "change",
    [{"query": "SELECT id, v FROM src ORDER BY v DESC LIMIT 1"}, {"refresh_mode": "FULL"}],
    ids=["query", "refresh_mode"],
)
def test_topk_repopulation_fills_the_whole_base_query_until_the_next_refresh(
    pgtrickle_db: TestDatabase, pgtrickle_conn: Conn, change: dict[str, str]
) -> None:
    """Mirrors pg_trickle src/api/alter.rs: alter_stream_table_query and the refresh-mode
    change repopulate through execute_manual_full_refresh (src/api/refresh_ops.rs), which runs
    defining_query, for a TopK table the query without ORDER BY / LIMIT: every source row
    lands. The next refresh (execute_topk_refresh: a MERGE that deletes what is not in the
    top rows) trims it; a client changing a TopK query refreshes after the alter."""
    make_source(pgtrickle_conn)
    create_st(pgtrickle_conn, "public.t", "SELECT id, v FROM src ORDER BY v DESC LIMIT 2")
    assert content(pgtrickle_conn, "public.t") == [(2, 20), (3, 30)]

    alter(pgtrickle_conn, "public.t", **change)

    with pgtrickle_db.connect() as other:
        assert content(other, "public.t") == [(1, 10), (2, 20), (3, 30)]
    call(pgtrickle_conn, "refresh_stream_table", name="public.t")
    top = [(3, 30)] if "query" in change else [(2, 20), (3, 30)]
    with pgtrickle_db.connect() as other:
        assert content(other, "public.t") == top


def test_13_10_query_change_resets_suspended_to_active(pgtrickle_conn: Conn) -> None:
    make_source(pgtrickle_conn)
    create_st(pgtrickle_conn, "public.t")
    alter(pgtrickle_conn, "public.t", status="SUSPENDED")
    alter(pgtrickle_conn, "public.t", query="SELECT id FROM src")
    assert st(pgtrickle_conn, "public.t")["status"] == "ACTIVE"  # type: ignore[index]


def test_13_10_failing_query_change_changes_nothing(
    pgtrickle_db: TestDatabase, pgtrickle_conn: Conn
) -> None:
    make_source(pgtrickle_conn)
    create_st(pgtrickle_conn, "public.t")
    before = snapshot(pgtrickle_conn, "public.t")
    with pytest.raises(psycopg.errors.DivisionByZero):
        alter(pgtrickle_conn, "public.t", query="SELECT id, 100 / (v - 20) AS q FROM src")
    with pgtrickle_db.connect() as other:
        assert snapshot(other, "public.t") == before


@pytest.mark.parametrize(
    "kwargs", [{"schedule": "2h"}, {}, {"tier": "warm"}], ids=["schedule", "name-only", "tier"]
)
def test_13_10_successful_alter_of_error_table_sets_active(
    pgtrickle_db: TestDatabase, pgtrickle_conn: Conn, kwargs: dict[str, Any]
) -> None:
    make_source(pgtrickle_conn)
    create_st(pgtrickle_conn, "public.t")
    alter(pgtrickle_conn, "public.t", status="ERROR")
    set_catalog(pgtrickle_conn, "public.t", {"last_error_message": "boom"})
    pgtrickle_conn.execute(
        "UPDATE pgtrickle.pgt_stream_tables SET last_error_at = now() WHERE pgt_name = 't'"
    )
    alter(pgtrickle_conn, "public.t", **kwargs)
    with pgtrickle_db.connect() as other:
        entry = st(other, "public.t")
        assert entry is not None
        assert entry["status"] == "ACTIVE"
        assert entry["last_error_message"] is None
        assert entry["last_error_at"] is None
        for key, value in kwargs.items():
            column = {"tier": "refresh_tier"}.get(key, key)
            assert entry[column] == value


def test_13_10_unknown_table(pgtrickle_conn: Conn) -> None:
    with pytest.raises(psycopg.Error) as err:
        alter(pgtrickle_conn, "public.nope", schedule="1h")
    assert_pg_error(err.value, "42P01", "stream table not found: public.nope")


def test_04_4_immediate_clears_schedule_and_leaving_restores_1m(pgtrickle_conn: Conn) -> None:
    make_source(pgtrickle_conn)
    create_st(pgtrickle_conn, "public.t", schedule="1h")
    alter(pgtrickle_conn, "public.t", refresh_mode="IMMEDIATE")
    entry = st(pgtrickle_conn, "public.t")
    assert entry is not None
    assert (entry["refresh_mode"], entry["schedule"]) == ("IMMEDIATE", None)
    alter(pgtrickle_conn, "public.t", refresh_mode="DIFFERENTIAL")
    entry = st(pgtrickle_conn, "public.t")
    assert entry is not None
    assert (entry["refresh_mode"], entry["schedule"]) == ("DIFFERENTIAL", "1m")


@pytest.mark.parametrize("tier", ["hot", "warm", "cold", "frozen"])
def test_03_5_tier_values(pgtrickle_conn: Conn, tier: str) -> None:
    make_source(pgtrickle_conn)
    create_st(pgtrickle_conn, "public.t")
    alter(pgtrickle_conn, "public.t", tier=tier)
    assert st(pgtrickle_conn, "public.t")["refresh_tier"] == tier  # type: ignore[index]


def test_03_5_fuse_values(pgtrickle_conn: Conn) -> None:
    make_source(pgtrickle_conn)
    create_st(pgtrickle_conn, "public.t")
    entry = st(pgtrickle_conn, "public.t")
    assert entry is not None
    assert (entry["fuse_mode"], entry["fuse_state"], entry["refresh_tier"]) == (
        "off", "armed", "hot"
    )  # fmt: skip
    alter(pgtrickle_conn, "public.t", fuse="on", fuse_ceiling=100, fuse_sensitivity=2)
    entry = st(pgtrickle_conn, "public.t")
    assert entry is not None
    assert (entry["fuse_mode"], entry["fuse_ceiling"], entry["fuse_sensitivity"]) == ("on", 100, 2)
    # Ceiling and sensitivity fall back to the stored values when not given.
    alter(pgtrickle_conn, "public.t", fuse="auto")
    entry = st(pgtrickle_conn, "public.t")
    assert entry is not None
    assert (entry["fuse_mode"], entry["fuse_ceiling"], entry["fuse_sensitivity"]) == (
        "auto", 100, 2
    )  # fmt: skip


@pytest.mark.parametrize(
    ("kwargs", "text"),
    [
        ({"tier": "x"}, "invalid tier value: 'x' (expected 'hot', 'warm', 'cold', or 'frozen')"),
        ({"fuse": "x"}, "invalid fuse value: 'x' (expected 'off', 'on', or 'auto')"),
        ({"fuse": "on", "fuse_ceiling": -1}, "fuse_ceiling must be a positive integer"),
        ({"fuse": "on", "fuse_sensitivity": -1}, "fuse_sensitivity must be a positive integer"),
        (
            {"diamond_consistency": "x"},
            "invalid diamond_consistency value: 'x' (expected 'none' or 'atomic')",
        ),
        (
            {"cdc_mode": "x"},
            "invalid cdc_mode value: 'x' (expected 'auto', 'trigger', or 'wal')",
        ),
    ],
    ids=["tier", "fuse", "fuse-ceiling", "fuse-sensitivity", "diamond", "cdc"],
)
def test_03_5_alter_enumeration_errors(
    pgtrickle_db: TestDatabase, pgtrickle_conn: Conn, kwargs: dict[str, Any], text: str
) -> None:
    make_source(pgtrickle_conn)
    create_st(pgtrickle_conn, "public.t")
    before = snapshot(pgtrickle_conn, "public.t")
    with pytest.raises(psycopg.Error) as err:
        alter(pgtrickle_conn, "public.t", **kwargs)
    assert_invalid_argument(err.value, text)
    with pgtrickle_db.connect() as other:
        assert snapshot(other, "public.t") == before


@pytest.mark.parametrize("kwargs", [{"schedule": "5m"}, {}], ids=["schedule", "name-only"])
def test_04_4_non_owner_may_not_alter(
    pgtrickle_conn: Conn, pgtrickle_version: str, kwargs: dict[str, Any]
) -> None:
    """A role that neither owns the table nor was granted anything is refused, 42501.

    Mirrors, per version: 0.67.0 src/api/helpers.rs check_stream_table_ownership (called by
    alter_stream_table_impl); 0.108.3 the deny-first ACL block of
    sql/archive/pg_trickle--0.108.3.sql (alter_stream_table revoked from PUBLIC, granted to
    pgtrickle_admin), so PostgreSQL refuses the call before the ownership check runs."""
    make_source(pgtrickle_conn)
    create_st(pgtrickle_conn, "public.t")
    before = snapshot(pgtrickle_conn, "public.t")
    with other_role(pgtrickle_conn) as role, pytest.raises(psycopg.Error) as err:
        as_role(pgtrickle_conn, role, "alter_stream_table", "public.t", **kwargs)
    assert_pg_error(err.value, "42501", refused(pgtrickle_version, "alter_stream_table"))
    assert snapshot(pgtrickle_conn, "public.t") == before


@pytest.mark.parametrize("status", ["SUSPENDED", "ERROR", "ACTIVE"])
def test_error_table_is_reset_to_active_after_the_status_argument(
    pgtrickle_db: TestDatabase, pgtrickle_conn: Conn, status: str
) -> None:
    """Mirrors pg_trickle src/api/alter.rs: alter_stream_table_impl: the `status` argument is
    applied first, then the ERR-1c step sees the status the table had when the call started
    (ERROR) and clears the error, sets ACTIVE and zeroes consecutive_errors. A table that was
    not in ERROR keeps the status it is given."""
    make_source(pgtrickle_conn)
    create_st(pgtrickle_conn, "public.t")
    alter(pgtrickle_conn, "public.t", status="ERROR")
    assert st(pgtrickle_conn, "public.t")["status"] == "ERROR"  # type: ignore[index]
    set_catalog(pgtrickle_conn, "public.t", {"last_error_message": "boom", "consecutive_errors": 2})
    alter(pgtrickle_conn, "public.t", status=status)
    with pgtrickle_db.connect() as other:
        entry = st(other, "public.t")
        assert entry is not None
        assert (entry["status"], entry["consecutive_errors"]) == ("ACTIVE", 0)
        assert (entry["last_error_message"], entry["last_error_at"]) == (None, None)


@contextmanager
def noinherit_member_of_owner(conn: Conn) -> Iterator[str]:
    """A non-superuser role that is a member of the stream table's owner WITH INHERIT FALSE:
    MEMBER of the owner, but without its privileges (no USAGE)."""
    owner = f"pgt_owner_{uuid4().hex[:8]}"
    with other_role(conn) as member:
        conn.execute(sql.SQL("CREATE ROLE {} NOLOGIN").format(sql.Identifier(owner)))
        try:
            conn.execute(
                sql.SQL("GRANT {} TO {} WITH INHERIT FALSE").format(
                    sql.Identifier(owner), sql.Identifier(member)
                )
            )
            conn.execute(sql.SQL("ALTER TABLE public.t OWNER TO {}").format(sql.Identifier(owner)))
            yield member
        finally:
            conn.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(owner)))
            conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(owner)))


@pytest.mark.parametrize(
    ("function", "kwargs"),
    [
        ("alter_stream_table", {}),
        ("alter_stream_table", {"tier": "warm"}),
        ("drop_stream_table", {}),
    ],
    ids=["alter-name-only", "alter-tier", "drop"],
)
def test_ownership_needs_usage_of_the_owner_not_membership(
    pgtrickle_conn: Conn, pgtrickle_version: str, function: str, kwargs: dict[str, Any]
) -> None:
    """A NOINHERIT member of the owner is refused, 42501. Mirrors, per version: 0.67.0
    src/api/helpers.rs check_stream_table_ownership (called by alter_stream_table_impl and
    drop_stream_table_impl_inner): pg_has_role(current_user, relowner, 'USAGE') or superuser;
    0.108.3 the deny-first ACL block of sql/archive/pg_trickle--0.108.3.sql: the member holds
    no EXECUTE on the function (revoked from PUBLIC, granted to pgtrickle_admin)."""
    make_source(pgtrickle_conn)
    create_st(pgtrickle_conn, "public.t")
    with noinherit_member_of_owner(pgtrickle_conn) as member:
        before = snapshot(pgtrickle_conn, "public.t")
        with pytest.raises(psycopg.Error) as err:
            as_role(pgtrickle_conn, member, function, "public.t", **kwargs)
        assert_pg_error(err.value, "42501", refused(pgtrickle_version, function))
        assert snapshot(pgtrickle_conn, "public.t") == before


MATVIEW_REFUSED = (
    "unsupported operator for DIFFERENTIAL mode: Materialized view 'public.mv' cannot be used"
    " as a source in DIFFERENTIAL mode."
)


def test_new_query_is_checked_against_the_stored_mode_without_auto_fallback(
    pgtrickle_db: TestDatabase, pgtrickle_conn: Conn
) -> None:
    """Mirrors pg_trickle src/api/alter.rs, alter_stream_table_query: the new query goes
    through src/api/mod.rs, validate_and_parse_query with the stored mode and is_auto false,
    so a table created with AUTO (stored DIFFERENTIAL) refuses a query only FULL can maintain
    (a materialized view source: src/dvm/parser/rewrites.rs, reject_materialized_views) with
    0A000 instead of falling back to FULL, and changes nothing."""
    conn = pgtrickle_conn
    make_source(conn)
    conn.execute("CREATE MATERIALIZED VIEW public.mv AS SELECT id, v FROM src")
    create_st(conn, "public.t", refresh_mode="AUTO")
    before = snapshot(conn, "public.t")
    assert before["catalog"][0]["refresh_mode"] == "DIFFERENTIAL"
    with pytest.raises(psycopg.Error) as err:
        alter(conn, "public.t", query="SELECT id, v FROM public.mv")
    assert_pg_error(err.value, "0A000", prefix=MATVIEW_REFUSED)
    with pgtrickle_db.connect() as other:
        assert snapshot(other, "public.t") == before


def test_auto_create_over_a_materialized_view_stores_full(
    pgtrickle_db: TestDatabase, pgtrickle_conn: Conn
) -> None:
    """Mirrors pg_trickle src/api/mod.rs, validate_and_parse_query: at create, AUTO falls back
    to FULL for a query DIFFERENTIAL cannot maintain; DIFFERENTIAL itself is refused."""
    conn = pgtrickle_conn
    make_source(conn)
    conn.execute("CREATE MATERIALIZED VIEW public.mv AS SELECT id, v FROM src")
    create_st(conn, "public.auto_t", "SELECT id, v FROM public.mv", refresh_mode="AUTO")
    with pytest.raises(psycopg.Error) as err:
        create_st(conn, "public.diff_t", "SELECT id, v FROM public.mv")
    assert_pg_error(err.value, "0A000", prefix=MATVIEW_REFUSED)
    with pgtrickle_db.connect() as other:
        entry = st(other, "public.auto_t")
        assert entry is not None
        assert entry["refresh_mode"] == "FULL"
        assert content(other, "public.auto_t") == query_result(other, "SELECT id, v FROM src")
        assert st(other, "public.diff_t") is None
