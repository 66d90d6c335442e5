"""§4.3 / §13.9: create_or_replace_stream_table."""

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
