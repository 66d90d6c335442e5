"""Operators through `execute()` with a real connection (`AIRFLOW_CONN_POSTGRES_DEFAULT`)."""

from __future__ import annotations

import json
import threading
from typing import Any

import psycopg
import pytest
from airflow_support import context

from airflow_provider_pgtrickle.capabilities import CatalogColumn
from airflow_provider_pgtrickle.exceptions import (
    PgTrickleRefreshError,
    PgTrickleValidationError,
    StreamTableNotFoundError,
)
from airflow_provider_pgtrickle.hooks.pgtrickle import PgTrickleHook
from airflow_provider_pgtrickle.lineage import openlineage_available
from airflow_provider_pgtrickle.operators.pgtrickle import (
    PgTrickleAlterStreamTableOperator,
    PgTrickleCreateStreamTableOperator,
    PgTrickleDropStreamTableOperator,
    PgTrickleRefreshOperator,
    PgTrickleResumeOperator,
)
from airflow_provider_pgtrickle.testing.server import TestDatabase

from .conftest import ORDERS_QUERY, catalog, fetch

ST = "public.order_totals"


def emitted(ctx: dict[str, Any]) -> list[str]:
    return [a.uri for recorder in ctx["outlet_events"].values() for a in recorder.assets]


def make_chain(pgtrickle_conn: psycopg.Connection[Any], hook: PgTrickleHook) -> None:
    """public.order_totals -> public.big_customers -> public.vip; public.solo independent."""
    hook.create_stream_table(ST, ORDERS_QUERY, schedule="5m", initialize=False)
    hook.create_stream_table(
        "public.big_customers",
        f"SELECT customer_id, total FROM {ST} WHERE total > 8",
        initialize=False,
    )
    hook.create_stream_table(
        "public.vip", "SELECT customer_id FROM public.big_customers", initialize=False
    )
    hook.create_stream_table("public.solo", "SELECT id FROM public.orders", initialize=False)


def test_create_operator_is_idempotent_and_emits_the_asset(
    pgtrickle_airflow_conn: str, orders: str, pgtrickle_db: TestDatabase
) -> None:
    op = PgTrickleCreateStreamTableOperator(
        task_id="create", stream_table=ST, query=ORDERS_QUERY, schedule="5m"
    )
    ctx = context()
    first = op.execute(ctx)
    assert first == {"stream_table": ST, "action": "created", "changed": []}
    json.dumps(first)
    assert emitted(ctx) == [
        f"postgres://{pgtrickle_db.host}:{pgtrickle_db.port}/{pgtrickle_db.dbname}/public/order_totals"
    ]
    again = op.execute(context())
    assert again["action"] == "unchanged"
    assert catalog(pgtrickle_db) == [
        ("public", "order_totals", "ACTIVE", "5m", "DIFFERENTIAL", True)
    ]


def test_create_operator_reads_sql_files(
    pgtrickle_airflow_conn: str, orders: str, pgtrickle_db: TestDatabase, tmp_path: Any
) -> None:
    (tmp_path / "totals.sql").write_text(ORDERS_QUERY)
    from airflow.sdk import DAG

    with DAG("sqlfile", schedule=None, template_searchpath=[str(tmp_path)]):
        op = PgTrickleCreateStreamTableOperator(
            task_id="create", stream_table=ST, query="totals.sql", schedule="1m"
        )
    assert op.template_ext == (".sql",)
    op.resolve_template_files()
    assert op.query == ORDERS_QUERY


def test_create_operator_validates_at_parse_time() -> None:
    with pytest.raises(PgTrickleValidationError, match="schedule"):
        PgTrickleCreateStreamTableOperator(
            task_id="bad", stream_table=ST, query="SELECT 1", schedule="5x"
        )
    with pytest.raises(PgTrickleValidationError, match="lower-case"):
        PgTrickleCreateStreamTableOperator(task_id="bad", stream_table="Public.X", query="SELECT 1")
    # Templated values are validated when the task runs, not at parse time.
    PgTrickleCreateStreamTableOperator(
        task_id="ok", stream_table="{{ params.name }}", query="SELECT 1"
    )


@pytest.mark.parametrize(
    ("refresh_mode", "options", "key"),
    [
        ("IMMEDIATE", {"partition_by": "customer_id"}, "partition_by"),
        ("FULL", {"append_only": True}, "append_only"),
        ("IMMEDIATE", {"cdc_mode": "wal"}, "cdc_mode"),
        (
            "DIFFERENTIAL",
            {"diamond_consistency": "none", "diamond_schedule_policy": "slowest"},
            "diamond_schedule_policy",
        ),
        ("DIFFERENTIAL", {"cdc_mode": "logical"}, "cdc_mode"),
    ],
)
def test_create_operator_refuses_what_pg_trickle_refuses_at_parse_time(
    refresh_mode: str, options: dict[str, Any], key: str
) -> None:
    with pytest.raises(PgTrickleValidationError, match=f"`public.order_totals`: {key} "):
        PgTrickleCreateStreamTableOperator(
            task_id="bad",
            stream_table=ST,
            query="SELECT 1",
            refresh_mode=refresh_mode,
            options=options,
        )


def test_alter_operator_refuses_a_combination_at_parse_time() -> None:
    with pytest.raises(PgTrickleValidationError, match="append_only"):
        PgTrickleAlterStreamTableOperator(
            task_id="bad", stream_table=ST, refresh_mode="FULL", options={"append_only": True}
        )


def test_alter_operator_runs_twice(
    pgtrickle_airflow_conn: str, hook: PgTrickleHook, orders: str, pgtrickle_db: TestDatabase
) -> None:
    hook.create_stream_table(ST, ORDERS_QUERY, schedule="5m")
    op = PgTrickleAlterStreamTableOperator(
        task_id="alter", stream_table=ST, schedule="10m", status="PAUSED"
    )
    for _ in range(2):
        assert op.execute(context()) == {"stream_table": ST, "altered": ["schedule", "status"]}
        assert catalog(pgtrickle_db)[0][2:4] == ("SUSPENDED", "10m")
    with pytest.raises(PgTrickleValidationError, match="nothing to alter"):
        PgTrickleAlterStreamTableOperator(task_id="noop", stream_table=ST)


def test_drop_operator_runs_twice(
    pgtrickle_airflow_conn: str, hook: PgTrickleHook, orders: str, pgtrickle_db: TestDatabase
) -> None:
    hook.create_stream_table(ST, ORDERS_QUERY)
    op = PgTrickleDropStreamTableOperator(task_id="drop", stream_table=ST)
    assert op.execute(context()) == {"stream_table": ST, "dropped": True}
    assert op.execute(context()) == {"stream_table": ST, "dropped": False}
    assert catalog(pgtrickle_db) == []
    strict = PgTrickleDropStreamTableOperator(task_id="d2", stream_table=ST, if_exists=False)
    with pytest.raises(StreamTableNotFoundError):
        strict.execute(context())


def test_refresh_in_dependency_order_in_parallel(
    pgtrickle_airflow_conn: str,
    hook: PgTrickleHook,
    orders: str,
    pgtrickle_conn: psycopg.Connection[Any],
    pgtrickle_db: TestDatabase,
) -> None:
    make_chain(pgtrickle_conn, hook)
    op = PgTrickleRefreshOperator(task_id="refresh", all_stream_tables=True, max_parallel=2)
    ctx = context()
    results = op.execute(ctx)
    json.dumps(results)
    names = [r["stream_table"] for r in results]
    assert names.index(ST) < names.index("public.big_customers") < names.index("public.vip")
    assert {r["action"] for r in results} == {"refreshed"}
    by_name = {r["stream_table"]: r for r in results}
    assert by_name[ST]["rows_inserted"] == 2
    assert by_name["public.vip"]["rows_inserted"] == 1
    assert fetch(pgtrickle_db, "SELECT customer_id FROM public.vip") == [(1,)]
    assert len(emitted(ctx)) == 4
    # Running it again converges (nothing new to apply, still all refreshed).
    again = op.execute(context())
    assert {r["action"] for r in again} == {"refreshed"}
    assert fetch(pgtrickle_db, "SELECT customer_id FROM public.vip") == [(1,)]


def test_refresh_skips_unhealthy_unless_told_to_fail(
    pgtrickle_airflow_conn: str,
    hook: PgTrickleHook,
    orders: str,
    pgtrickle_conn: psycopg.Connection[Any],
) -> None:
    make_chain(pgtrickle_conn, hook)
    hook.alter_stream_table("public.solo", status="SUSPENDED")
    results = PgTrickleRefreshOperator(task_id="r", schema="public").execute(context())
    by_name = {r["stream_table"]: r["action"] for r in results}
    assert by_name["public.solo"] == "skipped_unhealthy"
    assert by_name["public.vip"] == "refreshed"
    strict = PgTrickleRefreshOperator(
        task_id="r2", stream_tables=["public.solo", ST], fail_on_unhealthy=True
    )
    history = hook.get_refresh_history(ST)
    with pytest.raises(PgTrickleRefreshError, match=r"`public\.solo` \(SUSPENDED\)"):
        strict.execute(context())
    assert hook.get_refresh_history(ST) == history


def test_refresh_failure_blocks_downstream_and_fails_the_task(
    pgtrickle_airflow_conn: str,
    hook: PgTrickleHook,
    orders: str,
    pgtrickle_conn: psycopg.Connection[Any],
) -> None:
    hook.create_stream_table(
        ST,
        "SELECT customer_id, sum(100 / amount) AS x FROM public.orders GROUP BY 1",
        refresh_mode="FULL",
    )
    hook.create_stream_table("public.after", f"SELECT customer_id FROM {ST}", refresh_mode="FULL")
    hook.create_stream_table("public.solo", "SELECT id FROM public.orders", refresh_mode="FULL")
    pgtrickle_conn.execute("INSERT INTO public.orders VALUES (4, 3, 0)")
    op = PgTrickleRefreshOperator(task_id="r", all_stream_tables=True)
    with pytest.raises(PgTrickleRefreshError, match="division by zero") as info:
        op.execute(context())
    by_name = {r["stream_table"]: r["action"] for r in info.value.results}
    assert by_name == {ST: "failed", "public.after": "upstream_failed", "public.solo": "refreshed"}


def test_refresh_selection_errors(
    pgtrickle_airflow_conn: str, hook: PgTrickleHook, orders: str, sent: Any
) -> None:
    with pytest.raises(PgTrickleValidationError, match="exactly one"):
        PgTrickleRefreshOperator(task_id="r")
    with pytest.raises(PgTrickleValidationError, match="exactly one"):
        PgTrickleRefreshOperator(task_id="r", stream_tables=ST, schema="public")
    with pytest.raises(PgTrickleValidationError, match="positive integer"):
        PgTrickleRefreshOperator(task_id="r", stream_tables=ST, max_parallel=0)
    sent.mark()
    with pytest.raises(PgTrickleValidationError):
        PgTrickleRefreshOperator(task_id="r", stream_tables="public.x;drop").execute(context())
    assert sent.statements() == []
    with pytest.raises(StreamTableNotFoundError, match=r"`public\.nope`"):
        PgTrickleRefreshOperator(task_id="r", stream_tables="public.nope").execute(context())


def test_refresh_query_count(
    pgtrickle_airflow_conn: str,
    hook: PgTrickleHook,
    orders: str,
    pgtrickle_conn: psycopg.Connection[Any],
    sent: Any,
) -> None:
    make_chain(pgtrickle_conn, hook)
    sent.mark()
    PgTrickleRefreshOperator(task_id="r", all_stream_tables=True).execute(context())
    statements = sent.statements()
    refreshes = [s for s in statements if "refresh_stream_table" in s]
    assert len(refreshes) == 4
    # One plan query, the capability probe, on servers with orchestration_mode (0.93.0+)
    # one read of it (to find EXTERNAL tables), then per table BEGIN + refresh + history read
    # + COMMIT; with the OpenLineage provider installed (the `openlineage` extra) one
    # dependency-graph read more.
    lineage_reads = 1 if openlineage_available() else 0
    mode_reads = 1 if hook.capabilities().has(CatalogColumn.ORCHESTRATION_MODE) else 0
    assert len(statements) == 2 + mode_reads + 4 * 4 + lineage_reads, statements


def test_on_kill_cancels_the_running_refresh(
    pgtrickle_airflow_conn: str,
    hook: PgTrickleHook,
    orders: str,
    pgtrickle_db: TestDatabase,
) -> None:
    hook.create_stream_table(ST, ORDERS_QUERY, refresh_mode="FULL")
    op = PgTrickleRefreshOperator(task_id="r", stream_tables=ST)
    errors: list[BaseException] = []
    with pgtrickle_db.connect(autocommit=False) as blocker:
        # An exclusive lock on the source makes the refresh wait inside the server.
        blocker.execute("LOCK TABLE public.orders IN ACCESS EXCLUSIVE MODE")

        def run() -> None:
            try:
                op.execute(context())
            except BaseException as error:
                errors.append(error)

        worker = threading.Thread(target=run)
        worker.start()
        with pgtrickle_db.admin_connect() as watcher:  # reads pg_trickle's history
            _wait_until_a_refresh_waits_for_a_lock(watcher)
        op.on_kill()
        worker.join(timeout=60)
        blocker.rollback()
    assert not worker.is_alive()
    assert len(errors) == 1
    assert isinstance(errors[0], PgTrickleRefreshError)
    assert "cancel" in str(errors[0]).lower()


def _wait_until_a_refresh_waits_for_a_lock(watcher: Any) -> None:
    """Poll pg_stat_activity (up to 30 s) until a refresh_stream_table call waits on a lock."""
    for _ in range(600):
        waiting = watcher.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND wait_event_type = 'Lock' AND query LIKE '%%refresh_stream_table%%'"
        ).fetchone()
        if waiting and waiting[0]:
            return
        threading.Event().wait(0.05)


def _refresh_blocked_on_a_lock(
    pgtrickle_db: TestDatabase, max_parallel: int
) -> tuple[list[tuple[Any, ...]], threading.Thread]:
    """Refresh public.a_blocked (its source locked) and the independent public.b_free.

    Returns the MANUAL history rows of b_free committed while a_blocked was still waiting
    for the lock, and the finished worker.
    """
    op = PgTrickleRefreshOperator(
        task_id="r", stream_tables=["public.a_blocked", "public.b_free"], max_parallel=max_parallel
    )
    seen: list[tuple[Any, ...]] = []
    with pgtrickle_db.connect(autocommit=False) as blocker:
        blocker.execute("LOCK TABLE public.orders IN ACCESS EXCLUSIVE MODE")
        worker = threading.Thread(target=op.execute, args=(context(),))
        worker.start()
        with pgtrickle_db.admin_connect() as watcher:  # reads pg_trickle's history
            _wait_until_a_refresh_waits_for_a_lock(watcher)
            # Give b_free ample time to finish if it is allowed to run now.
            for _ in range(40):
                seen = watcher.execute(
                    "SELECT h.refresh_id FROM pgtrickle.pgt_refresh_history AS h"
                    " JOIN pgtrickle.pgt_stream_tables AS st USING (pgt_id)"
                    " WHERE st.pgt_name = 'b_free' AND h.initiated_by = 'MANUAL'"
                ).fetchall()
                if seen:
                    break
                threading.Event().wait(0.05)
        blocker.rollback()
    worker.join(timeout=60)
    return seen, worker


@pytest.mark.parametrize("max_parallel", [1, 2])
@pytest.mark.usefixtures("pgtrickle_airflow_conn", "orders")
def test_independent_tables_refresh_in_parallel_up_to_max_parallel(
    hook: PgTrickleHook,
    pgtrickle_conn: psycopg.Connection[Any],
    pgtrickle_db: TestDatabase,
    max_parallel: int,
) -> None:
    pgtrickle_conn.execute("CREATE TABLE public.other (id int PRIMARY KEY)")
    hook.create_stream_table("public.a_blocked", ORDERS_QUERY, refresh_mode="FULL")
    hook.create_stream_table("public.b_free", "SELECT id FROM public.other", refresh_mode="FULL")
    seen, worker = _refresh_blocked_on_a_lock(pgtrickle_db, max_parallel)
    assert not worker.is_alive()
    if max_parallel == 1:
        assert seen == [], "b_free ran beside a_blocked although max_parallel=1"
    else:
        assert len(seen) == 1, "b_free waited for a_blocked although max_parallel=2"


def test_execution_timeout_cancels_the_running_refresh(
    pgtrickle_airflow_conn: str,
    hook: PgTrickleHook,
    orders: str,
    pgtrickle_db: TestDatabase,
) -> None:
    from airflow.sdk.execution_time.timeout import timeout
    from airflow_support import AirflowTaskTimeout

    hook.create_stream_table(ST, ORDERS_QUERY, refresh_mode="FULL")
    history = "SELECT count(*) FROM pgtrickle.pgt_refresh_history"
    before = fetch(pgtrickle_db, history)
    op = PgTrickleRefreshOperator(task_id="r", stream_tables=ST)
    with pgtrickle_db.connect(autocommit=False) as blocker:
        blocker.execute("LOCK TABLE public.orders IN ACCESS EXCLUSIVE MODE")
        # Without the cancel, execute() would wait for the lock; release it eventually so
        # that such a regression fails below instead of hanging the suite.
        release = threading.Timer(30, blocker.rollback)
        release.start()
        try:
            # The task runner wraps execute() like this when execution_timeout is set.
            with pytest.raises(AirflowTaskTimeout), timeout(1):
                op.execute(context())
            assert release.is_alive(), "execute() returned only after the lock was released"
        finally:
            release.cancel()
            blocker.rollback()
    assert fetch(pgtrickle_db, history) == before


def test_resume_operator_runs_twice(
    pgtrickle_airflow_conn: str, hook: PgTrickleHook, orders: str, pgtrickle_db: TestDatabase
) -> None:
    hook.create_stream_table(ST, ORDERS_QUERY)
    hook.create_stream_table("public.solo", "SELECT id FROM public.orders")
    hook.alter_stream_table(ST, status="SUSPENDED")
    op = PgTrickleResumeOperator(task_id="resume", schema="public")
    first = op.execute(context())
    assert {r["stream_table"]: r["action"] for r in first} == {
        ST: "resumed",
        "public.solo": "unchanged",
    }
    second = op.execute(context())
    assert {r["action"] for r in second} == {"unchanged"}
    assert {row[2] for row in catalog(pgtrickle_db)} == {"ACTIVE"}


def test_create_operator_redeploys_an_immediate_table_unchanged(
    pgtrickle_airflow_conn: str,
    orders: str,
    pgtrickle_db: TestDatabase,
    pgtrickle_statement_log: Any,
) -> None:
    """The operator's default schedule '1m' is not sent for IMMEDIATE (pg_trickle would compare
    it as text with the stored NULL and alter the table on every deploy)."""
    op = PgTrickleCreateStreamTableOperator(
        task_id="create", stream_table=ST, query=ORDERS_QUERY, refresh_mode="IMMEDIATE"
    )
    assert op.execute(context())["action"] == "created"
    with pgtrickle_db.connect() as conn:
        updated = conn.execute("SELECT updated_at FROM pgtrickle.pgt_stream_tables").fetchone()
    pgtrickle_statement_log.mark()

    again = op.execute(context())

    assert again == {"stream_table": ST, "action": "unchanged", "changed": []}
    assert pgtrickle_statement_log.calls(r'pgtrickle\."?alter_stream_table"?\(') == []
    assert catalog(pgtrickle_db) == [("public", "order_totals", "ACTIVE", None, "IMMEDIATE", True)]
    with pgtrickle_db.connect() as conn:
        assert conn.execute("SELECT updated_at FROM pgtrickle.pgt_stream_tables").fetchone() == (
            updated
        )


def test_create_operator_strips_a_trailing_semicolon(
    pgtrickle_airflow_conn: str, orders: str, pgtrickle_db: TestDatabase
) -> None:
    op = PgTrickleCreateStreamTableOperator(
        task_id="create", stream_table=ST, query=ORDERS_QUERY + ";\n", schedule="5m"
    )
    assert op.execute(context())["action"] == "created"
    assert fetch(
        pgtrickle_db,
        "SELECT coalesce(original_query, defining_query) FROM pgtrickle.pgt_stream_tables",
    ) == [(ORDERS_QUERY,)]
    assert fetch(pgtrickle_db, f"SELECT customer_id, total FROM {ST} ORDER BY 1") == [
        (1, 15),
        (2, 7),
    ]
    assert op.execute(context())["action"] == "unchanged"
