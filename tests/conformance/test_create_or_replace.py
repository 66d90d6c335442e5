"""create_or_replace_stream_table (pg_trickle src/api/create.rs,
create_or_replace_stream_table_impl)."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from airflow_provider_pgtrickle.testing.server import TestDatabase

from ._helpers import (
    SIMPLE_QUERY,
    Conn,
    assert_pg_error,
    call,
    content,
    history,
    make_source,
    messages,
    notices,
    query_result,
    snapshot,
    st,
)


def replace(conn: Conn, name: str, query: str, **kwargs: Any) -> None:
    call(conn, "create_or_replace_stream_table", name=name, query=query, **kwargs)


def test_13_09_creates_when_absent_honouring_initialize(
    pgtrickle_db: TestDatabase, pgtrickle_conn: Conn
) -> None:
    conn = pgtrickle_conn
    make_source(conn)
    # Checked inside the creating transaction: a running scheduler would populate an
    # INITIALIZING table soon after commit.
    with conn.transaction():
        replace(conn, "public.t", SIMPLE_QUERY, schedule="1h", initialize=False)
        entry = st(conn, "public.t")
        assert entry is not None
        assert (entry["status"], entry["is_populated"]) == ("INITIALIZING", False)
        assert content(conn, "public.t") == []
        assert history(conn, "public.t") == []
    with pgtrickle_db.connect() as other:
        assert st(other, "public.t") is not None


def test_13_09_creates_when_absent_with_initialize(pgtrickle_conn: Conn) -> None:
    make_source(pgtrickle_conn)
    replace(pgtrickle_conn, "public.t", SIMPLE_QUERY, schedule="1h", refresh_mode="FULL")
    entry = st(pgtrickle_conn, "public.t")
    assert entry is not None
    assert (entry["status"], entry["refresh_mode"], entry["schedule"]) == ("ACTIVE", "FULL", "1h")
    assert [h["initiated_by"] for h in history(pgtrickle_conn, "public.t")] == ["INITIAL"]
    assert content(pgtrickle_conn, "public.t") == query_result(pgtrickle_conn, SIMPLE_QUERY)


def test_13_09_identical_modulo_whitespace_is_noop(
    pgtrickle_db: TestDatabase, pgtrickle_conn: Conn
) -> None:
    make_source(pgtrickle_conn)
    replace(pgtrickle_conn, "public.t", SIMPLE_QUERY, schedule="1h", refresh_mode="DIFFERENTIAL")
    with pgtrickle_db.connect() as other:
        before = snapshot(other, "public.t")
    with notices(pgtrickle_conn) as seen:
        # AUTO counts as DIFFERENTIAL; NULL diamond settings equal the stored defaults;
        # initialize and partition_by are never applied to an existing table.
        replace(
            pgtrickle_conn,
            "public.t",
            "  SELECT   id,\n\tv\nFROM src  ",
            schedule=" 1h ",
            refresh_mode="AUTO",
            initialize=False,
            partition_by="id",
        )
    assert (
        "Stream table public.t already exists with identical definition \u2014 no changes made."
        in messages(seen, "INFO")
    )
    with pgtrickle_db.connect() as other:
        assert snapshot(other, "public.t") == before


def test_13_09_config_change_alters_only_what_differs(
    pgtrickle_db: TestDatabase, pgtrickle_conn: Conn
) -> None:
    make_source(pgtrickle_conn)
    replace(pgtrickle_conn, "public.t", SIMPLE_QUERY, schedule="1h", refresh_mode="DIFFERENTIAL")
    before = st(pgtrickle_conn, "public.t")
    assert before is not None
    replace(
        pgtrickle_conn,
        "public.t",
        SIMPLE_QUERY,
        schedule="2h",
        refresh_mode="DIFFERENTIAL",
        partition_by="id",
    )
    with pgtrickle_db.connect() as other:
        after = st(other, "public.t")
        assert after is not None
        assert after["schedule"] == "2h"
        for column in (
            "pgt_id",
            "pgt_relid",
            "defining_query",
            "refresh_mode",
            "status",
            "st_partition_key",
            "data_timestamp",
        ):
            assert after[column] == before[column], column
        assert len(history(other, "public.t")) == 1


def test_13_09_query_change_rebuilds_in_place(
    pgtrickle_db: TestDatabase, pgtrickle_conn: Conn
) -> None:
    make_source(pgtrickle_conn)
    replace(pgtrickle_conn, "public.t", SIMPLE_QUERY, schedule="1h", refresh_mode="DIFFERENTIAL")
    before = st(pgtrickle_conn, "public.t")
    assert before is not None
    new_query = "SELECT id, v * 2 AS v FROM src"
    replace(pgtrickle_conn, "public.t", new_query, schedule="1h", refresh_mode="DIFFERENTIAL")
    with pgtrickle_db.connect() as other:
        after = st(other, "public.t")
        assert after is not None
        assert after["pgt_id"] == before["pgt_id"]
        assert after["defining_query"] == new_query
        assert after["status"] == "ACTIVE"
        assert content(other, "public.t") == query_result(other, new_query)
        # The rebuild is an ALTER QUERY: no history row.
        assert len(history(other, "public.t")) == 1


def test_13_09_auto_against_stored_full_is_check_violation(
    pgtrickle_db: TestDatabase, pgtrickle_conn: Conn
) -> None:
    make_source(pgtrickle_conn)
    replace(pgtrickle_conn, "public.t", SIMPLE_QUERY, schedule="1h", refresh_mode="FULL")
    with pgtrickle_db.connect() as other:
        before = snapshot(other, "public.t")
    with pytest.raises(psycopg.Error) as err:
        replace(pgtrickle_conn, "public.t", SIMPLE_QUERY, schedule="1h", refresh_mode="AUTO")
    assert_pg_error(
        err.value,
        "23514",
        'new row for relation "pgt_stream_tables" violates check constraint'
        ' "pgt_stream_tables_refresh_mode_check"',
    )
    with pgtrickle_db.connect() as other:
        assert snapshot(other, "public.t") == before


TOPK_QUERY = "SELECT id, v FROM src ORDER BY v DESC LIMIT 2"


def test_topk_clause_change_alone_is_noop(pgtrickle_db: TestDatabase, pgtrickle_conn: Conn) -> None:
    """Mirrors pg_trickle src/api/create.rs: create_or_replace_stream_table_impl.

    The new query is compared with its TopK clause stripped (detect_topk_pattern's base
    query) against defining_query; topk_limit / topk_order_by / topk_offset are not part of
    the comparison, so changing only ORDER BY / LIMIT / OFFSET changes nothing.
    """
    make_source(pgtrickle_conn)
    replace(pgtrickle_conn, "public.t", TOPK_QUERY, schedule="1h", refresh_mode="DIFFERENTIAL")
    with pgtrickle_db.connect() as other:
        before = snapshot(other, "public.t")
    with notices(pgtrickle_conn) as seen:
        replace(
            pgtrickle_conn,
            "public.t",
            "SELECT id, v FROM src ORDER BY id LIMIT 1 OFFSET 1",
            schedule="1h",
            refresh_mode="DIFFERENTIAL",
        )
    assert (
        "Stream table public.t already exists with identical definition \u2014 no changes made."
        in messages(seen, "INFO")
    )
    with pgtrickle_db.connect() as other:
        assert snapshot(other, "public.t") == before
        entry = st(other, "public.t")
        assert entry is not None
        assert entry["topk_limit"] == 2


def test_omitted_diamond_and_cdc_arguments_mean_no_change(
    pgtrickle_db: TestDatabase, pgtrickle_conn: Conn
) -> None:
    """Mirrors pg_trickle src/api/create.rs: compute_config_diff (via
    create_or_replace_stream_table_impl): an omitted diamond_consistency,
    diamond_schedule_policy or cdc_mode is never handed to alter_stream_table_impl."""
    make_source(pgtrickle_conn)
    replace(
        pgtrickle_conn,
        "public.t",
        SIMPLE_QUERY,
        schedule="1h",
        refresh_mode="DIFFERENTIAL",
        diamond_consistency="none",
        cdc_mode="trigger",
    )
    with pgtrickle_db.connect() as other:
        before = snapshot(other, "public.t")
    with notices(pgtrickle_conn) as seen:
        replace(
            pgtrickle_conn, "public.t", SIMPLE_QUERY, schedule="1h", refresh_mode="DIFFERENTIAL"
        )
    assert (
        "Stream table public.t already exists with identical definition \u2014 no changes made."
        in messages(seen, "INFO")
    )
    with pgtrickle_db.connect() as other:
        assert snapshot(other, "public.t") == before
        entry = st(other, "public.t")
        assert entry is not None
        assert (entry["diamond_consistency"], entry["requested_cdc_mode"]) == ("none", "trigger")


def test_schedule_is_compared_as_text_and_null_means_calculated(
    pgtrickle_db: TestDatabase, pgtrickle_conn: Conn
) -> None:
    """Mirrors pg_trickle src/api/create.rs: compute_config_diff: the schedule is compared as
    trimmed raw text ('60m' differs from '1h'); NULL differs from a stored schedule and is
    handed on as 'calculated'. The INFO line prints Rust booleans."""
    make_source(pgtrickle_conn)
    replace(pgtrickle_conn, "public.t", SIMPLE_QUERY, schedule="1h", refresh_mode="DIFFERENTIAL")
    with notices(pgtrickle_conn) as seen:
        replace(
            pgtrickle_conn, "public.t", SIMPLE_QUERY, schedule="60m", refresh_mode="DIFFERENTIAL"
        )
    assert "Stream table public.t replaced (query_changed=false, config_changed=true)." in messages(
        seen, "INFO"
    )
    with pgtrickle_db.connect() as other:
        assert st(other, "public.t")["schedule"] == "60m"  # type: ignore[index]
    replace(pgtrickle_conn, "public.t", SIMPLE_QUERY, schedule=None, refresh_mode="DIFFERENTIAL")
    with pgtrickle_db.connect() as other:
        assert st(other, "public.t")["schedule"] is None  # type: ignore[index]


def test_arguments_are_compared_not_validated(
    pgtrickle_db: TestDatabase, pgtrickle_conn: Conn
) -> None:
    """Mirrors pg_trickle src/api/create.rs: compute_config_diff: an unknown refresh mode
    counts as DIFFERENTIAL (RefreshMode::from_str(..).unwrap_or) and an unknown diamond
    schedule policy as 'fastest'; nothing differs, so nothing is validated or changed."""
    make_source(pgtrickle_conn)
    replace(pgtrickle_conn, "public.t", SIMPLE_QUERY, schedule="1h", refresh_mode="DIFFERENTIAL")
    with pgtrickle_db.connect() as other:
        before = snapshot(other, "public.t")
    with notices(pgtrickle_conn) as seen:
        replace(
            pgtrickle_conn,
            "public.t",
            SIMPLE_QUERY,
            schedule="1h",
            refresh_mode="bogus",
            diamond_schedule_policy="bogus",
        )
    assert (
        "Stream table public.t already exists with identical definition \u2014 no changes made."
        in messages(seen, "INFO")
    )
    with pgtrickle_db.connect() as other:
        assert snapshot(other, "public.t") == before
