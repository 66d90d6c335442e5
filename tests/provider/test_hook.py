"""PgTrickleHook against the test server; results are read from a separate connection."""

from __future__ import annotations

import re
from typing import Any, cast

import psycopg
import pytest

from airflow_provider_pgtrickle.exceptions import (
    PgTrickleDatabaseError,
    PgTrickleExtensionMissingError,
    PgTrickleUnsupportedQueryError,
    PgTrickleValidationError,
    StreamTableAlreadyExistsError,
    StreamTableDependencyError,
    StreamTableNotFoundError,
    StreamTableQueryChangeError,
    StreamTableStateError,
)
from airflow_provider_pgtrickle.hooks.pgtrickle import PgTrickleHook
from airflow_provider_pgtrickle.testing.pytest_plugin import StatementLog
from airflow_provider_pgtrickle.testing.server import TestDatabase, TestServer
from airflow_provider_pgtrickle.types import (
    DeployOutcome,
    HealthSeverity,
    RefreshMode,
    RefreshOutcome,
    StreamTableStatus,
)

from .conftest import ORDERS_QUERY, catalog, fetch, relations

ST = "public.order_totals"


def test_create_commits_and_populates(
    hook: PgTrickleHook, orders: str, pgtrickle_db: TestDatabase
) -> None:
    hook.create_stream_table(ST, ORDERS_QUERY, schedule="5m", refresh_mode="DIFFERENTIAL")
    assert catalog(pgtrickle_db) == [
        ("public", "order_totals", "ACTIVE", "5m", "DIFFERENTIAL", True)
    ]
    assert fetch(pgtrickle_db, f"SELECT customer_id, total FROM {ST} ORDER BY 1") == [
        (1, 15),
        (2, 7),
    ]


def test_unqualified_name_is_sent_as_public(
    hook: PgTrickleHook, orders: str, pgtrickle_db: TestDatabase
) -> None:
    hook.create_stream_table("order_totals", ORDERS_QUERY, initialize=False)
    assert catalog(pgtrickle_db)[0][:3] == ("public", "order_totals", "INITIALIZING")


def test_duplicate_create_raises_and_changes_nothing(
    hook: PgTrickleHook, orders: str, pgtrickle_db: TestDatabase
) -> None:
    hook.create_stream_table(ST, ORDERS_QUERY, schedule="5m")
    before = catalog(pgtrickle_db)
    with pytest.raises(StreamTableAlreadyExistsError) as info:
        hook.create_stream_table(ST, "SELECT id FROM public.orders", schedule="1m")
    assert info.value.sqlstate == "42P07"
    assert "`public.order_totals`" in str(info.value)
    assert catalog(pgtrickle_db) == before


def test_failing_create_leaves_nothing_behind(
    hook: PgTrickleHook, orders: str, pgtrickle_db: TestDatabase
) -> None:
    tables = relations(pgtrickle_db)
    with pytest.raises(PgTrickleDatabaseError) as info:
        hook.create_stream_table(ST, "SELECT nope FROM public.orders")
    assert info.value.server_message
    assert catalog(pgtrickle_db) == []
    assert relations(pgtrickle_db) == tables


@pytest.mark.parametrize(
    ("name", "query", "sqlstate"),
    [
        (ST, "SELECT id FROM public.no_such_source", "42P01"),
        (ST, "SELECT public.no_such_function(id) FROM public.orders", "42883"),
        ("no_such_schema.order_totals", ORDERS_QUERY, "3F000"),
    ],
    ids=["missing-source-table", "missing-function", "missing-schema"],
)
@pytest.mark.usefixtures("orders")
def test_native_errors_inside_a_call_keep_their_sqlstate(
    hook: PgTrickleHook, pgtrickle_db: TestDatabase, name: str, query: str, sqlstate: str
) -> None:
    # Raised inside pgtrickle.create_stream_table, so the error's CONTEXT names pgtrickle.*;
    # that must not make it "extension missing" or "stream table not found".
    with pytest.raises(PgTrickleDatabaseError) as info:
        hook.create_stream_table(name, query)
    assert type(info.value) is PgTrickleDatabaseError
    assert info.value.sqlstate == sqlstate
    assert "CREATE EXTENSION" not in str(info.value)
    assert catalog(pgtrickle_db) == []


def test_create_or_replace_reports_created_unchanged_altered(
    hook: PgTrickleHook, orders: str, pgtrickle_db: TestDatabase
) -> None:
    first = hook.create_or_replace_stream_table(ST, ORDERS_QUERY, schedule="5m")
    assert first.action is DeployOutcome.CREATED
    same = hook.create_or_replace_stream_table(ST, ORDERS_QUERY, schedule="5m")
    assert same.action is DeployOutcome.UNCHANGED
    assert same.changed == ()
    rescheduled = hook.create_or_replace_stream_table(ST, ORDERS_QUERY, schedule="10m")
    assert rescheduled.action is DeployOutcome.ALTERED
    assert "schedule" in rescheduled.changed
    assert catalog(pgtrickle_db)[0][3] == "10m"
    new_query = ORDERS_QUERY.replace("count(*) AS n", "max(amount) AS biggest")
    requeried = hook.create_or_replace_stream_table(ST, new_query, schedule="10m")
    assert requeried.action is DeployOutcome.ALTERED
    assert "defining_query" in requeried.changed
    assert fetch(pgtrickle_db, f"SELECT customer_id, biggest FROM {ST} ORDER BY 1") == [
        (1, 10),
        (2, 7),
    ]
    assert requeried.to_dict()["action"] == "altered"


def storage_oid(db: TestDatabase) -> int:
    [(oid,)] = fetch(db, "SELECT pgt_relid::oid::bigint FROM pgtrickle.pgt_stream_tables")
    return int(oid)


def test_query_change_pg_trickle_would_misfill_is_a_drop_and_create(
    hook: PgTrickleHook, orders: str, pgtrickle_db: TestDatabase
) -> None:
    """pg_trickle 0.67.0 appends a new column behind `__pgt_count` and then fills the table by
    position (vocabulary/lifecycle.py, IN_PLACE_QUERY_SQL): a query that only leaves a column
    out is changed in place (same storage table), one that renames a column is dropped and
    created, and both hold the new query's rows, also after the next change and refresh."""
    hook.create_or_replace_stream_table(ST, ORDERS_QUERY, schedule="1d")
    first = storage_oid(pgtrickle_db)
    fewer = "SELECT customer_id, sum(amount) AS total FROM public.orders GROUP BY customer_id"
    assert hook.create_or_replace_stream_table(ST, fewer, schedule="1d").action is (
        DeployOutcome.ALTERED
    )
    assert storage_oid(pgtrickle_db) == first
    assert fetch(pgtrickle_db, f"SELECT customer_id, total FROM {ST} ORDER BY 1") == [
        (1, 15),
        (2, 7),
    ]
    renamed = fewer.replace("sum(amount) AS total", "sum(amount) AS spent, max(amount) AS top")
    result = hook.create_or_replace_stream_table(ST, renamed, schedule="1d")
    assert result.action is DeployOutcome.ALTERED
    assert "defining_query" in result.changed
    assert storage_oid(pgtrickle_db) != first
    with pgtrickle_db.connect() as conn:
        conn.execute("INSERT INTO public.orders VALUES (4, 2, 30)")
    hook.refresh_stream_table(ST)
    assert fetch(pgtrickle_db, f"SELECT customer_id, spent, top FROM {ST} ORDER BY 1") == [
        (1, 15, 10),
        (2, 37, 30),
    ]


def test_a_column_appended_to_a_table_without_helper_columns_stays_in_place(
    hook: PgTrickleHook, orders: str, pgtrickle_db: TestDatabase
) -> None:
    hook.create_or_replace_stream_table(ST, "SELECT id, amount FROM public.orders", schedule="1d")
    first = storage_oid(pgtrickle_db)
    hook.create_or_replace_stream_table(
        ST, "SELECT id, amount, customer_id FROM public.orders", schedule="1d"
    )
    assert storage_oid(pgtrickle_db) == first
    assert fetch(pgtrickle_db, f"SELECT id, amount, customer_id FROM {ST} ORDER BY 1") == [
        (1, 10, 1),
        (2, 5, 1),
        (3, 7, 2),
    ]


def test_alter_refuses_a_query_pg_trickle_would_misfill(
    hook: PgTrickleHook, orders: str, pgtrickle_db: TestDatabase
) -> None:
    hook.create_stream_table(ST, ORDERS_QUERY, schedule="1d")
    before = fetch(
        pgtrickle_db, "SELECT defining_query, pgt_relid FROM pgtrickle.pgt_stream_tables"
    )
    renamed = ORDERS_QUERY.replace("count(*) AS n", "max(amount) AS biggest")
    with pytest.raises(
        StreamTableQueryChangeError, match=r"`public\.order_totals`.*create_or_replace"
    ):
        hook.alter_stream_table(ST, query=renamed)
    after = fetch(pgtrickle_db, "SELECT defining_query, pgt_relid FROM pgtrickle.pgt_stream_tables")
    assert after == before
    # a column left out fits: changed in place
    hook.alter_stream_table(ST, query=ORDERS_QUERY.replace(", count(*) AS n", ""))
    assert fetch(pgtrickle_db, f"SELECT customer_id, total FROM {ST} ORDER BY 1") == [
        (1, 15),
        (2, 7),
    ]


def test_create_or_replace_with_auto_keeps_the_stored_mode(
    hook: PgTrickleHook, orders: str, pgtrickle_db: TestDatabase
) -> None:
    hook.create_stream_table(ST, ORDERS_QUERY, schedule="5m", refresh_mode="FULL")
    result = hook.create_or_replace_stream_table(
        ST, ORDERS_QUERY, schedule="5m", refresh_mode="AUTO"
    )
    assert result.action is DeployOutcome.UNCHANGED
    assert catalog(pgtrickle_db)[0][4] == "FULL"


def test_create_or_replace_with_auto_goes_full_for_a_query_differential_refuses(
    hook: PgTrickleHook, orders: str, pgtrickle_conn: Any, pgtrickle_db: TestDatabase
) -> None:
    # pg_trickle checks a new query against the stored mode with AUTO's fallback off
    # (src/api/alter.rs, alter_stream_table_query): a materialized view source is refused
    # for DIFFERENTIAL with 0A000, where AUTO at create would have stored FULL.
    pgtrickle_conn.execute(
        "CREATE MATERIALIZED VIEW public.orders_mv AS SELECT * FROM public.orders"
    )
    first = hook.create_or_replace_stream_table(ST, ORDERS_QUERY, schedule="5m")
    assert first.action is DeployOutcome.CREATED
    assert catalog(pgtrickle_db)[0][4] == "DIFFERENTIAL"
    over_mv = ORDERS_QUERY.replace("public.orders", "public.orders_mv")
    moved = hook.create_or_replace_stream_table(ST, over_mv, schedule="5m", refresh_mode="AUTO")
    assert moved.action is DeployOutcome.ALTERED
    assert {"defining_query", "refresh_mode"} <= set(moved.changed)
    assert catalog(pgtrickle_db)[0][4] == "FULL"
    assert fetch(
        pgtrickle_db,
        "SELECT defining_query LIKE '%%orders_mv%%' FROM pgtrickle.pgt_stream_tables",
    ) == [(True,)]
    again = hook.create_or_replace_stream_table(ST, over_mv, schedule="5m", refresh_mode="AUTO")
    assert again.action is DeployOutcome.UNCHANGED
    # Not AUTO: DIFFERENTIAL asked for is refused, and nothing changes.
    other = "public.other_totals"
    hook.create_or_replace_stream_table(other, ORDERS_QUERY, schedule="5m")
    before = catalog(pgtrickle_db)
    with pytest.raises(PgTrickleUnsupportedQueryError):
        hook.create_or_replace_stream_table(
            other, over_mv, schedule="5m", refresh_mode="DIFFERENTIAL"
        )
    assert catalog(pgtrickle_db) == before


def test_alter_sends_only_given_settings(
    hook: PgTrickleHook, orders: str, pgtrickle_db: TestDatabase
) -> None:
    hook.create_stream_table(ST, ORDERS_QUERY, schedule="5m", refresh_mode="DIFFERENTIAL")
    hook.alter_stream_table(ST, schedule="calculated")
    assert catalog(pgtrickle_db)[0][2:5] == ("ACTIVE", None, "DIFFERENTIAL")
    hook.alter_stream_table(ST, status="paused")
    assert catalog(pgtrickle_db)[0][2] == "SUSPENDED"
    hook.alter_stream_table(ST, refresh_mode=RefreshMode.FULL, status="ACTIVE")
    assert catalog(pgtrickle_db)[0][2:5] == ("ACTIVE", None, "FULL")


def test_alter_fuse_and_limits(
    hook: PgTrickleHook, orders: str, pgtrickle_db: TestDatabase
) -> None:
    hook.create_stream_table(ST, ORDERS_QUERY, schedule="5m", max_differential_joins=3)
    hook.alter_stream_table(ST, fuse="on", fuse_ceiling=500, max_delta_fraction=0.25)
    columns = "fuse_mode, fuse_ceiling, max_differential_joins, max_delta_fraction"
    assert fetch(pgtrickle_db, f"SELECT {columns} FROM pgtrickle.pgt_stream_tables") == [
        ("on", 500, 3, 0.25)
    ]
    # 0 removes a limit: pg_trickle stores NULL.
    hook.alter_stream_table(ST, max_differential_joins=0, max_delta_fraction=0)
    assert fetch(pgtrickle_db, f"SELECT {columns} FROM pgtrickle.pgt_stream_tables") == [
        ("on", 500, None, None)
    ]


def test_alter_unknown_table(hook: PgTrickleHook, orders: str) -> None:
    with pytest.raises(StreamTableNotFoundError, match=r"`public\.nope`"):
        hook.alter_stream_table("public.nope", schedule="5m")


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"refresh_mode": "AUTO"},
        {"status": "STOPPED"},
        {"schedule": "5x"},
        {"tier": "lukewarm"},
        {"fuse": "sometimes"},
        {"fuse_ceiling": 0},
        {"fuse_sensitivity": "high"},
        {"bogus": 1},
        {"schedule": "none"},
        # Combinations within the call itself (the table's current settings are not read):
        {"refresh_mode": "FULL", "append_only": True},
        {"refresh_mode": "IMMEDIATE", "cdc_mode": "wal"},
        {"refresh_mode": "IMMEDIATE", "partition_by": "customer_id"},
        {"diamond_consistency": "none", "diamond_schedule_policy": "slowest"},
    ],
)
def test_alter_validation_sends_nothing(
    hook: PgTrickleHook,
    orders: str,
    pgtrickle_db: TestDatabase,
    sent: Any,
    kwargs: dict[str, Any],
) -> None:
    hook.create_stream_table(ST, ORDERS_QUERY, schedule="5m")
    before = catalog(pgtrickle_db)
    sent.mark()
    with pytest.raises(PgTrickleValidationError, match=r"public\.order_totals"):
        hook.alter_stream_table(ST, **kwargs)
    assert sent.statements() == []
    assert catalog(pgtrickle_db) == before


def test_drop(hook: PgTrickleHook, orders: str, pgtrickle_db: TestDatabase) -> None:
    hook.create_stream_table(ST, ORDERS_QUERY)
    assert hook.drop_stream_table(ST) is True
    assert catalog(pgtrickle_db) == []
    assert ST not in relations(pgtrickle_db)
    assert hook.drop_stream_table(ST, if_exists=True) is False
    with pytest.raises(StreamTableNotFoundError):
        hook.drop_stream_table(ST)


def test_drop_with_dependents_needs_cascade(
    hook: PgTrickleHook, orders: str, pgtrickle_db: TestDatabase
) -> None:
    hook.create_stream_table(ST, ORDERS_QUERY)
    hook.create_stream_table(
        "public.big_customers", f"SELECT customer_id FROM {ST} WHERE total > 8"
    )
    with pytest.raises(StreamTableDependencyError, match="cascade=True"):
        hook.drop_stream_table(ST)
    assert len(catalog(pgtrickle_db)) == 2
    assert hook.drop_stream_table(ST, cascade=True) is True
    assert catalog(pgtrickle_db) == []


def test_refresh_reports_history_row_and_commits(
    hook: PgTrickleHook, orders: str, pgtrickle_db: TestDatabase
) -> None:
    hook.create_stream_table(ST, ORDERS_QUERY, initialize=False)
    result = hook.refresh_stream_table(ST)
    assert result.action is RefreshOutcome.REFRESHED
    assert result.refresh_action == "FULL"
    assert result.rows_inserted == 2
    assert result.data_timestamp is not None
    # Timed by the client: the history row's own times are equal (both now()).
    assert result.duration_ms is not None
    assert result.duration_ms > 0
    assert catalog(pgtrickle_db)[0][2] == "ACTIVE"
    assert catalog(pgtrickle_db)[0][5] is True
    as_json = result.to_dict()
    assert as_json["action"] == "refreshed"
    assert isinstance(as_json["data_timestamp"], str)


def test_refresh_skipped_when_another_session_refreshes(
    hook: PgTrickleHook, orders: str, pgtrickle_db: TestDatabase
) -> None:
    hook.create_stream_table(ST, ORDERS_QUERY)
    history_before = hook.get_refresh_history(ST)
    with pgtrickle_db.connect(autocommit=False) as other:
        other.execute("SELECT pgtrickle.refresh_stream_table(%s)", [ST])
        result = hook.refresh_stream_table(ST)
        other.rollback()
    assert result.action is RefreshOutcome.SKIPPED
    assert result.message is not None
    assert "refresh skipped" in result.message
    assert hook.get_refresh_history(ST) == history_before


def test_refresh_refused_for_suspended_table(hook: PgTrickleHook, orders: str) -> None:
    hook.create_stream_table(ST, ORDERS_QUERY)
    hook.alter_stream_table(ST, status="SUSPENDED")
    with pytest.raises(StreamTableStateError) as info:
        hook.refresh_stream_table(ST)
    assert "suspended" in str(info.value)
    assert "PgTrickleResumeOperator" in str(info.value)


def test_refresh_unknown(hook: PgTrickleHook, orders: str) -> None:
    with pytest.raises(StreamTableNotFoundError) as info:
        hook.refresh_stream_table("public.nope")
    assert info.value.sqlstate == "42P01"


def test_resume(hook: PgTrickleHook, orders: str, pgtrickle_db: TestDatabase) -> None:
    hook.create_stream_table(ST, ORDERS_QUERY)
    with pytest.raises(StreamTableStateError, match="not suspended"):
        hook.resume_stream_table(ST)
    hook.alter_stream_table(ST, status="ERROR")
    hook.resume_stream_table(ST)
    assert catalog(pgtrickle_db)[0][2] == "ACTIVE"


def test_readers(hook: PgTrickleHook, orders: str, pgtrickle_conn: psycopg.Connection[Any]) -> None:
    pgtrickle_conn.execute("CREATE SCHEMA analytics")
    hook.create_stream_table(ST, ORDERS_QUERY, schedule="5m")
    hook.create_stream_table(
        "analytics.big", f"SELECT customer_id FROM {ST} WHERE total > 8", schedule="calculated"
    )
    assert hook.get_stream_table("public.nope") is None
    table = hook.get_stream_table(ST)
    assert table is not None
    assert table.status is StreamTableStatus.ACTIVE
    assert table.refresh_mode is RefreshMode.DIFFERENTIAL
    assert table.qualified_name == ST
    assert table.to_dict()["status"] == "ACTIVE"
    assert [t.qualified_name for t in hook.list_stream_tables()] == ["analytics.big", ST]
    assert [t.qualified_name for t in hook.list_stream_tables(schema="analytics")] == [
        "analytics.big"
    ]
    assert [t.qualified_name for t in hook.list_stream_tables(names=["order_totals"])] == [ST]

    stats = hook.get_stats(names=[ST])
    assert len(stats) == 1
    assert stats[0].total_refreshes == 1
    assert stats[0].status is StreamTableStatus.ACTIVE

    checks = hook.health_check()
    assert checks[0].check_name == "scheduler_running"
    assert all(isinstance(c.severity, HealthSeverity) for c in checks)

    history = hook.get_refresh_history(ST)
    assert [(h.action, h.status) for h in history] == [("FULL", "COMPLETED")]
    assert hook.get_refresh_history("public.nope") == []

    edges = {(e.stream_table, e.source, e.source_type) for e in hook.dependency_graph()}
    assert (ST, "public.orders", "TABLE") in edges
    assert ("analytics.big", ST, "STREAM_TABLE") in edges

    plan = {entry.name: entry.upstream for entry in hook.refresh_plan()}
    assert plan == {ST: (), "analytics.big": (ST,)}


def test_version_and_features(hook: PgTrickleHook) -> None:
    version = hook.extension_version()
    assert version is not None
    assert re.fullmatch(r"\d+\.\d+\.\d+", version)
    info = hook.extension_info()
    assert info.extension_version == version
    assert info.supports("create_or_replace_stream_table")
    assert hook.has_feature("refresh_stream_table")
    with pytest.raises(PgTrickleValidationError, match="accepted"):
        hook.has_feature("teleport")
    ok, message = hook.test_connection()
    assert ok
    assert f"pg_trickle {version} is installed" in message


def test_pgtrickle_connection_type_works_like_postgres(
    orders: str, pgtrickle_db: TestDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    uri = pgtrickle_db.airflow_env("x")["AIRFLOW_CONN_X"]
    monkeypatch.setenv("AIRFLOW_CONN_PGT_TYPED", uri.replace("postgres://", "pgtrickle://", 1))
    hook = PgTrickleHook(postgres_conn_id="pgt_typed")
    assert hook.get_connection("pgt_typed").conn_type == "pgtrickle"
    hook.create_stream_table(ST, ORDERS_QUERY)
    assert catalog(pgtrickle_db)[0][:3] == ("public", "order_totals", "ACTIVE")


def test_database_without_extension(
    pgtrickle_server: TestServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = "pgt_noext_hooktest"
    pgtrickle_server.drop_database(name)
    with pgtrickle_server.admin_connect() as conn:
        conn.execute(f"CREATE DATABASE {name}")
    try:
        db = pgtrickle_server.database(name)
        for key, value in db.airflow_env("pg_noext").items():
            monkeypatch.setenv(key, value)
        hook = PgTrickleHook(postgres_conn_id="pg_noext")
        assert hook.extension_version() is None
        ok, message = hook.test_connection()
        assert not ok
        assert "NOT installed" in message
        with pytest.raises(PgTrickleExtensionMissingError, match="CREATE EXTENSION pg_trickle"):
            hook.list_stream_tables()
        with pytest.raises(PgTrickleExtensionMissingError):
            hook.extension_info()
    finally:
        pgtrickle_server.drop_database(name)


@pytest.mark.parametrize(
    ("query", "tag"),
    [
        ("SELECT customer_id, '$$x$$' AS tag FROM public.orders", "$$x$$"),
        ("SELECT customer_id, 'it''s' AS tag FROM public.orders", "it's"),
        ("SELECT customer_id, 'é✓ ünïcode' AS tag FROM public.orders", "é✓ ünïcode"),
        ("SELECT customer_id, ';' AS tag FROM public.orders", ";"),
    ],
)
def test_hostile_but_valid_queries_run_as_one_call(
    hook: PgTrickleHook, orders: str, pgtrickle_db: TestDatabase, query: str, tag: str
) -> None:
    hook.create_stream_table("public.tagged", query, refresh_mode="FULL")
    assert {r[0] for r in fetch(pgtrickle_db, "SELECT tag FROM public.tagged")} == {tag}
    assert "public.canary" in relations(pgtrickle_db)


@pytest.mark.parametrize(
    "query",
    [
        "SELECT id FROM public.orders; DROP TABLE public.canary",
        "SELECT id FROM public.orders'); DROP TABLE public.canary; --",
        "SELECT id FROM public.orders $$); DROP TABLE public.canary; --",
    ],
)
def test_injection_attempts_never_execute(
    hook: PgTrickleHook, orders: str, pgtrickle_db: TestDatabase, query: str
) -> None:
    with pytest.raises(PgTrickleDatabaseError):
        hook.create_stream_table("public.evil", query)
    assert "public.canary" in relations(pgtrickle_db)
    assert catalog(pgtrickle_db) == []


@pytest.mark.parametrize(
    "name",
    ["public.x; DROP TABLE public.canary", 'public."x"', "public.$$x$$", "public.ünï"],
)
def test_hostile_names_send_nothing(
    hook: PgTrickleHook,
    orders: str,
    pgtrickle_db: TestDatabase,
    sent: Any,
    name: str,
) -> None:
    sent.mark()
    with pytest.raises(PgTrickleValidationError):
        hook.create_stream_table(name, ORDERS_QUERY)
    with pytest.raises(PgTrickleValidationError):
        hook.drop_stream_table(name, if_exists=True)
    with pytest.raises(PgTrickleValidationError):
        hook.refresh_stream_table(name)
    assert sent.statements() == []
    assert "public.canary" in relations(pgtrickle_db)


def test_refresh_sends_one_transaction_of_two_queries(
    hook: PgTrickleHook, orders: str, sent: Any
) -> None:
    hook.create_stream_table(ST, ORDERS_QUERY)
    hook.capabilities()  # probed once per hook: how to read the history row back
    sent.mark()
    hook.refresh_stream_table(ST)
    statements = [s.strip().split()[0].upper() for s in sent.statements()]
    assert statements == ["BEGIN", "SELECT", "SELECT", "COMMIT"]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"schedule": "1h 30m"},
        {"schedule": "none"},  # None means CALCULATED; the string is refused
        {"refresh_mode": "SOMETIMES"},
        {"query": "   "},
        {"cdc_mode": "carrier-pigeon"},
        {"diamond_consistency": "maybe"},
        {"append_only": "yes"},
        {"max_differential_joins": -1},
        {"max_delta_fraction": -1},
        {"unknown_option": 1},
        {"schedule": "null"},
        # Combinations pg_trickle refuses are refused before anything is sent (they used to
        # reach the server): docs/reference/configuration.md, Combinations.
        {"refresh_mode": "IMMEDIATE", "partition_by": "amount"},
        {"refresh_mode": "FULL", "append_only": True},
        {"refresh_mode": "IMMEDIATE", "append_only": True},
        {"refresh_mode": "IMMEDIATE", "cdc_mode": "wal"},
        {"diamond_consistency": "none", "diamond_schedule_policy": "slowest"},
        {"partition_by": "HASH:customer_id:300"},
    ],
)
def test_create_validation_sends_nothing(
    hook: PgTrickleHook,
    orders: str,
    pgtrickle_db: TestDatabase,
    sent: Any,
    kwargs: dict[str, Any],
) -> None:
    query = kwargs.pop("query", ORDERS_QUERY)
    tables = relations(pgtrickle_db)
    sent.mark()
    with pytest.raises(PgTrickleValidationError, match=r"`public\.order_totals`"):
        hook.create_or_replace_stream_table(ST, query, **kwargs)
    assert sent.statements() == []
    assert catalog(pgtrickle_db) == []
    assert relations(pgtrickle_db) == tables


def test_create_defaults_are_one_minute_differential(
    hook: PgTrickleHook, orders: str, pgtrickle_db: TestDatabase
) -> None:
    """The one default set of the vocabulary (the create operator and dbt use it too)."""
    hook.create_stream_table(ST, ORDERS_QUERY)
    hook.create_or_replace_stream_table("public.order_totals_2", ORDERS_QUERY)
    rows = [row[3:5] for row in catalog(pgtrickle_db)]
    assert rows == [("1m", "DIFFERENTIAL"), ("1m", "DIFFERENTIAL")]


def test_spellings_pg_trickle_accepts_are_sent_canonical(
    hook: PgTrickleHook, orders: str, pgtrickle_db: TestDatabase
) -> None:
    hook.create_stream_table(ST, ORDERS_QUERY, schedule=" @Hourly ", refresh_mode="incremental")
    assert catalog(pgtrickle_db)[0][3:5] == ("@hourly", "DIFFERENTIAL")
    hook.alter_stream_table(ST, schedule=None, cdc_mode=" TRIGGER ", status="paused")
    with pgtrickle_db.connect() as conn:
        row = conn.execute(
            "SELECT schedule, requested_cdc_mode, status FROM pgtrickle.pgt_stream_tables"
        ).fetchone()
    assert row == ("@hourly", "trigger", "SUSPENDED")


TOP = "public.top_orders"
# a call of pgtrickle.alter_stream_table as the hook writes it (the function name is quoted)
ALTER_CALL = r'pgtrickle\."?alter_stream_table"?\('


def topk(db: TestDatabase) -> tuple[Any, ...]:
    """(topk_order_by, topk_limit, topk_offset, the ids of its rows) of `TOP`, read on a new
    connection."""
    with db.connect() as conn:
        row = conn.execute(
            "SELECT topk_order_by, topk_limit, topk_offset FROM pgtrickle.pgt_stream_tables"
            " WHERE pgt_schema = 'public' AND pgt_name = 'top_orders'"
        ).fetchone()
        ids = conn.execute(f"SELECT id FROM {TOP} ORDER BY id").fetchall()
    assert row is not None
    return (*row, [r[0] for r in ids])


@pytest.fixture
def sent_if_logged(
    pgtrickle_server: TestServer, request: pytest.FixtureRequest
) -> StatementLog | None:
    """`sent` where the server's log can be read (the test server), else None."""
    if pgtrickle_server.log_path is None:
        return None
    return cast(StatementLog, request.getfixturevalue("sent"))


def test_create_or_replace_applies_a_topk_change(
    hook: PgTrickleHook,
    orders: str,
    pgtrickle_db: TestDatabase,
    sent_if_logged: StatementLog | None,
) -> None:
    """pg_trickle's create_or_replace compares a TopK query without its ORDER BY / LIMIT and
    would drop these changes; they go through alter_stream_table(query => ...), then a refresh
    trims the table pg_trickle repopulated from the query without ORDER BY / LIMIT."""
    with pgtrickle_db.connect() as conn:
        conn.execute("INSERT INTO public.orders VALUES (4, 3, 1), (5, 3, 20), (6, 2, 8)")
    query = "SELECT id, amount FROM public.orders ORDER BY amount DESC, id LIMIT {}"
    assert hook.create_or_replace_stream_table(TOP, query.format(5)).action is DeployOutcome.CREATED
    assert topk(pgtrickle_db) == ("amount DESC, id", 5, None, [1, 2, 3, 5, 6])
    if sent_if_logged is not None:
        sent_if_logged.mark()

    limited = hook.create_or_replace_stream_table(TOP, query.format(3))

    assert limited.action is DeployOutcome.ALTERED
    assert "topk_limit" in limited.changed
    assert topk(pgtrickle_db) == ("amount DESC, id", 3, None, [1, 5, 6])
    if sent_if_logged is not None:
        assert len(sent_if_logged.calls(ALTER_CALL)) == 1
        assert len(sent_if_logged.calls(r'pgtrickle\."?refresh_stream_table"?\(')) == 1

    reordered = hook.create_or_replace_stream_table(
        TOP, "SELECT id, amount FROM public.orders ORDER BY amount, id LIMIT 3"
    )

    assert reordered.action is DeployOutcome.ALTERED
    assert "topk_order_by" in reordered.changed
    assert topk(pgtrickle_db) == ("amount, id", 3, None, [2, 3, 4])
    again = hook.create_or_replace_stream_table(
        TOP, "SELECT id, amount FROM public.orders ORDER BY amount, id LIMIT 3"
    )
    assert again.action is DeployOutcome.UNCHANGED


@pytest.mark.parametrize(
    ("change", "top"),
    [
        (
            {"query": "SELECT id, amount FROM public.orders ORDER BY amount DESC, id LIMIT 2"},
            [1, 3],
        ),
        ({"refresh_mode": "FULL"}, [2, 3]),
    ],
    ids=["query", "refresh_mode"],
)
def test_alter_leaves_only_the_top_rows_of_a_topk_table(
    hook: PgTrickleHook,
    orders: str,
    pgtrickle_db: TestDatabase,
    change: dict[str, str],
    top: list[int],
) -> None:
    """pg_trickle repopulates a TopK table from its query without ORDER BY / LIMIT on a query
    or mode change; the hook refreshes it in the same transaction, so no reader sees more."""
    hook.create_stream_table(
        TOP,
        "SELECT id, amount FROM public.orders ORDER BY amount, id LIMIT 2",
        schedule="1h",
        refresh_mode="DIFFERENTIAL",
    )
    assert topk(pgtrickle_db)[3] == [2, 3]

    hook.alter_stream_table(TOP, **change)

    assert topk(pgtrickle_db)[3] == top


def test_alter_status_of_a_table_in_error_is_kept(
    hook: PgTrickleHook, orders: str, pgtrickle_db: TestDatabase, sent: Any
) -> None:
    """pg_trickle sets an ERROR table ACTIVE after applying `status`; the hook sends the status
    in a second call, so SUSPENDED (with a schedule change, and alone) sticks."""
    hook.create_stream_table(ST, ORDERS_QUERY, schedule="5m")
    hook.alter_stream_table(ST, status="ERROR")
    sent.mark()

    hook.alter_stream_table(ST, schedule="10m", status="SUSPENDED")

    assert catalog(pgtrickle_db)[0][2:4] == ("SUSPENDED", "10m")
    assert len(sent.calls(ALTER_CALL)) == 2
    hook.alter_stream_table(ST, status="ERROR")
    hook.alter_stream_table(ST, status="PAUSED")
    assert catalog(pgtrickle_db)[0][2] == "SUSPENDED"
    # not in ERROR: one call
    sent.mark()
    hook.alter_stream_table(ST, schedule="5m", status="ACTIVE")
    assert catalog(pgtrickle_db)[0][2:4] == ("ACTIVE", "5m")
    assert len(sent.calls(ALTER_CALL)) == 1


@pytest.mark.parametrize(
    "ending", [";\n", " ;; \n", "; -- the end\n", "\n-- trailing note", "; /* done */"]
)
def test_trailing_semicolons_and_comments_are_not_sent(
    hook: PgTrickleHook, orders: str, pgtrickle_db: TestDatabase, ending: str
) -> None:
    """pg_trickle wraps the query (`FROM (<query>) sub`), where these endings break it."""
    query = "SELECT id, amount, ';--' AS tricky FROM public.orders"
    assert hook.create_or_replace_stream_table(ST, query + ending).action is DeployOutcome.CREATED
    stored = "SELECT coalesce(original_query, defining_query) FROM pgtrickle.pgt_stream_tables"
    assert fetch(pgtrickle_db, stored) == [(query,)]
    assert fetch(pgtrickle_db, f"SELECT count(*), min(tricky) FROM {ST}") == [(3, ";--")]
    assert hook.create_or_replace_stream_table(ST, query + ending).action is (
        DeployOutcome.UNCHANGED
    )
    hook.alter_stream_table(ST, query="SELECT id, amount, 'x' AS tricky FROM public.orders;\n")
    assert fetch(pgtrickle_db, stored) == [("SELECT id, amount, 'x' AS tricky FROM public.orders",)]


def test_a_query_of_only_semicolons_and_comments_is_refused(
    hook: PgTrickleHook, orders: str, sent: Any
) -> None:
    with pytest.raises(PgTrickleValidationError, match=r"`public\.order_totals`.*no statement"):
        hook.create_or_replace_stream_table(ST, " ; -- nothing\n")
    assert sent.statements() == []
