"""Who owns refresh: `orchestration_mode` / `target_freshness` through the hook and operators,
and the refresh operator's strict graph path for EXTERNAL tables (pg_trickle 0.93.0 / 0.94.0).

On 0.108.3 outcomes are read from a separate connection (catalog, graph refresh history);
on 0.67.0 the same calls give today's behaviour or a `PgTrickleFeatureUnavailableError`
naming the release that brings the feature, before anything is sent.
"""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from airflow_support import context

from airflow_provider_pgtrickle.exceptions import (
    PgTrickleDatabaseError,
    PgTrickleFeatureUnavailableError,
    PgTrickleGraphChangedError,
    PgTrickleValidationError,
)
from airflow_provider_pgtrickle.hooks.pgtrickle import PgTrickleHook
from airflow_provider_pgtrickle.operators.pgtrickle import (
    PgTrickleAlterStreamTableOperator,
    PgTrickleCreateStreamTableOperator,
    PgTrickleRefreshOperator,
)
from airflow_provider_pgtrickle.sensors.pgtrickle import PgTrickleHealthSensor
from airflow_provider_pgtrickle.testing.server import TestDatabase
from airflow_provider_pgtrickle.types import DeployOutcome, FullPolicy

from .conftest import ORDERS_QUERY, fetch

V067, V0108 = "0.67.0", "0.108.3"
SPEND = "public.spend"
VIP = "public.vip"
VIP_QUERY = "SELECT customer_id, total FROM public.spend WHERE total > 10"


def _needs(version: str, wanted: str) -> None:
    if version != wanted:
        pytest.skip(f"about pg_trickle {wanted}; the server runs {version or '?'}")


def _modes(db: TestDatabase) -> dict[str, tuple[str, str | None]]:
    return {
        f"{r[0]}.{r[1]}": (r[2], r[3])
        for r in fetch(
            db,
            "SELECT pgt_schema, pgt_name, orchestration_mode, target_freshness_mode"
            " FROM pgtrickle.pgt_stream_tables",
        )
    }


def _external_chain(hook: PgTrickleHook) -> None:
    hook.create_or_replace_stream_table(SPEND, ORDERS_QUERY, orchestration_mode="EXTERNAL")
    hook.create_or_replace_stream_table(VIP, VIP_QUERY, orchestration_mode="external")


# -- validation: before anything is sent, on every version ------------------------------------


@pytest.mark.parametrize(
    ("options", "text"),
    [
        ({"orchestration_mode": "sometimes"}, "'MANAGED', 'EXTERNAL'"),
        ({"orchestration_mode": "EXTERNAL", "refresh_mode": "IMMEDIATE"}, "with refresh_mode"),
        ({"target_freshness": "soon"}, "'on_commit'"),
        ({"target_freshness": "on_commit", "refresh_mode": "FULL"}, "'IMMEDIATE' or 'AUTO'"),
    ],
)
def test_bad_values_are_refused_at_parse_time(options: dict[str, Any], text: str) -> None:
    with pytest.raises(PgTrickleValidationError) as caught:
        PgTrickleCreateStreamTableOperator(
            task_id="c",
            stream_table=SPEND,
            query=ORDERS_QUERY,
            refresh_mode=options.pop("refresh_mode", "DIFFERENTIAL"),
            options=options,
        )
    assert "public.spend" in str(caught.value)
    assert text in str(caught.value)


def test_full_policy_is_a_closed_set() -> None:
    with pytest.raises(PgTrickleValidationError, match="'ALLOW', 'ERROR'"):
        PgTrickleRefreshOperator(task_id="r", stream_tables=SPEND, full_policy="sometimes")
    assert (
        PgTrickleRefreshOperator(task_id="r", stream_tables=SPEND, full_policy="error").full_policy
        is FullPolicy.ERROR
    )


def test_schedule_and_target_freshness_are_refused_together(
    hook: PgTrickleHook, orders: str, pgtrickle_db: TestDatabase
) -> None:
    with pytest.raises(PgTrickleValidationError, match="one or the other"):
        hook.create_or_replace_stream_table(
            SPEND, ORDERS_QUERY, schedule="5m", target_freshness="manual"
        )
    assert fetch(pgtrickle_db, "SELECT count(*) FROM pgtrickle.pgt_stream_tables") == [(0,)]


# -- 0.108.3 -----------------------------------------------------------------------------------


def test_deploy_external_and_back(
    hook: PgTrickleHook, orders: str, pgtrickle_db: TestDatabase, pgtrickle_version: str
) -> None:
    """create-or-replace stores the mode, a redeploy is UNCHANGED, a changed mode is ALTERED
    and named; the alter operator changes it through set_orchestration_mode."""
    _needs(pgtrickle_version, V0108)
    first = hook.create_or_replace_stream_table(SPEND, ORDERS_QUERY, orchestration_mode="EXTERNAL")
    assert first.action is DeployOutcome.CREATED
    assert _modes(pgtrickle_db)[SPEND][0] == "EXTERNAL"
    again = hook.create_or_replace_stream_table(SPEND, ORDERS_QUERY, orchestration_mode="EXTERNAL")
    assert again.action is DeployOutcome.UNCHANGED
    back = hook.create_or_replace_stream_table(SPEND, ORDERS_QUERY, orchestration_mode="MANAGED")
    assert back.action is DeployOutcome.ALTERED
    assert "orchestration_mode" in back.changed
    assert _modes(pgtrickle_db)[SPEND][0] == "MANAGED"
    PgTrickleAlterStreamTableOperator(
        task_id="a", stream_table=SPEND, options={"orchestration_mode": "EXTERNAL"}
    ).execute(context())
    assert _modes(pgtrickle_db)[SPEND][0] == "EXTERNAL"


def test_target_freshness_manual(
    hook: PgTrickleHook, orders: str, pgtrickle_db: TestDatabase, pgtrickle_version: str
) -> None:
    """target_freshness 'manual' takes the table off the scheduler; a redeploy is UNCHANGED."""
    _needs(pgtrickle_version, V0108)
    hook.create_or_replace_stream_table(SPEND, ORDERS_QUERY, target_freshness="MANUAL")
    assert _modes(pgtrickle_db)[SPEND] == ("MANAGED", "MANUAL")
    again = hook.create_or_replace_stream_table(SPEND, ORDERS_QUERY, target_freshness="manual")
    assert again.action is DeployOutcome.UNCHANGED
    hook.alter_stream_table(SPEND, schedule="10m")
    assert _modes(pgtrickle_db)[SPEND] == ("MANAGED", None)


def test_refresh_operator_takes_the_strict_path_for_external_tables(
    hook: PgTrickleHook,
    orders: str,
    pgtrickle_conn: psycopg.Connection[Any],
    pgtrickle_db: TestDatabase,
    pgtrickle_version: str,
) -> None:
    """EXTERNAL roots: one graph refresh with their upstream closure; the XCom holds the graph
    refresh id, the digest and a typed result per node; the database shows the same refresh
    (history rows `EXTERNAL_GRAPH`) from a separate connection. MANAGED tables keep the
    per-table path (history `MANUAL`)."""
    _needs(pgtrickle_version, V0108)
    _external_chain(hook)
    hook.create_or_replace_stream_table("public.solo", "SELECT id FROM public.orders")
    pgtrickle_conn.execute("INSERT INTO public.orders VALUES (4, 3, 50)")
    ctx = context()
    out = PgTrickleRefreshOperator(
        task_id="r", stream_tables=[VIP, "public.solo"], full_policy="ALLOW"
    ).execute(ctx)
    graph = ctx["ti"].xcom["graph_refresh"]
    assert graph["roots"] == [VIP]
    assert [n["stream_table"] for n in graph["nodes"]] == [SPEND, VIP]
    assert {n["result_class"] for n in graph["nodes"]} == {"COMPLETED"}
    assert len(bytes.fromhex(graph["graph_digest"])) == 32
    assert [r["stream_table"] for r in out] == [SPEND, VIP, "public.solo"]
    history = fetch(
        pgtrickle_db,
        "SELECT s.pgt_schema || '.' || s.pgt_name, h.initiated_by"
        " FROM pgtrickle.pgt_refresh_history h JOIN pgtrickle.pgt_stream_tables s USING (pgt_id)"
        " WHERE h.initiated_by IN ('EXTERNAL_GRAPH', 'MANUAL') ORDER BY h.refresh_id",
    )
    assert history == [
        (SPEND, "EXTERNAL_GRAPH"),
        (VIP, "EXTERNAL_GRAPH"),
        ("public.solo", "MANUAL"),
    ]
    assert fetch(pgtrickle_db, "SELECT customer_id FROM public.vip ORDER BY 1") == [(1,), (3,)]
    # A retry is another graph refresh, with a new id and nothing left to do.
    ctx2 = context()
    PgTrickleRefreshOperator(task_id="r", stream_tables=VIP).execute(ctx2)
    assert ctx2["ti"].xcom["graph_refresh"]["graph_refresh_id"] > graph["graph_refresh_id"]
    assert {n["result_class"] for n in ctx2["ti"].xcom["graph_refresh"]["nodes"]} == {"NO_DATA"}


def test_full_policy_error_fails_the_whole_graph(
    hook: PgTrickleHook, orders: str, pgtrickle_db: TestDatabase, pgtrickle_version: str
) -> None:
    """full_policy ERROR: a member that needs a whole-query FULL refresh (never populated)
    fails the graph; nothing is refreshed (the transaction rolled back)."""
    _needs(pgtrickle_version, V0108)
    hook.create_or_replace_stream_table(
        SPEND, ORDERS_QUERY, orchestration_mode="EXTERNAL", initialize=False
    )
    with pytest.raises(PgTrickleDatabaseError, match="PGT_EXT_FULL_POLICY"):
        PgTrickleRefreshOperator(task_id="r", stream_tables=SPEND, full_policy="ERROR").execute(
            context()
        )
    assert fetch(
        pgtrickle_db,
        "SELECT count(*) FROM pgtrickle.pgt_refresh_history WHERE initiated_by = 'EXTERNAL_GRAPH'",
    ) == [(0,)]


def test_a_changed_graph_fails_with_a_message_that_says_so(
    hook: PgTrickleHook,
    orders: str,
    pgtrickle_db: TestDatabase,
    pgtrickle_version: str,
) -> None:
    """A change committed between reading the digest and refreshing fails with
    PGT_EXT_CONTRACT_MISMATCH (which the hook raises as `PgTrickleGraphChangedError`, "the
    graph changed since it was read"), and nothing is refreshed."""
    _needs(pgtrickle_version, V0108)
    _external_chain(hook)
    with pgtrickle_db.connect(autocommit=False) as conn:
        # Read the digest first, then change the graph from another session, then refresh
        # against the old digest in the same transaction: what the hook does, split open.
        digest = conn.execute(
            "SELECT graph_digest FROM pgtrickle.graph_contract(roots => %s::regclass[])", [[VIP]]
        ).fetchone()[0]  # type: ignore[index]
        hook.alter_stream_table(SPEND, query=ORDERS_QUERY.replace("sum(amount)", "sum(amount)*1"))
        with pytest.raises(psycopg.Error) as info:
            conn.execute(
                "SELECT * FROM pgtrickle.refresh_graph_strict(roots => %s::regclass[],"
                " expected_graph_digest => %s)",
                [[VIP], digest],
            )
        assert (info.value.diag.message_primary or "").startswith("PGT_EXT_CONTRACT_MISMATCH")
        conn.rollback()


def test_the_hook_refuses_a_graph_that_changed_since_its_digest_was_read(
    hook: PgTrickleHook, orders: str, pgtrickle_db: TestDatabase, pgtrickle_version: str
) -> None:
    """`expected_graph_digest`: a digest read earlier (another task) no longer matches after a
    member's query changed: `PgTrickleGraphChangedError` says so, nothing is refreshed; a
    fresh digest refreshes."""
    _needs(pgtrickle_version, V0108)
    _external_chain(hook)
    digest = hook.graph_contract_digest(VIP)
    hook.alter_stream_table(SPEND, query=ORDERS_QUERY.replace("sum(amount)", "sum(amount)*1"))
    with pytest.raises(PgTrickleGraphChangedError) as caught:
        hook.refresh_graph_strict(VIP, expected_graph_digest=digest)
    assert "the graph changed since it was read" in str(caught.value)
    assert caught.value.server_message is not None
    assert caught.value.server_message.startswith("PGT_EXT_CONTRACT_MISMATCH")
    assert fetch(
        pgtrickle_db,
        "SELECT count(*) FROM pgtrickle.pgt_refresh_history WHERE initiated_by = 'EXTERNAL_GRAPH'",
    ) == [(0,)]
    fresh = hook.graph_contract_digest(VIP)
    assert fresh != digest
    result = hook.refresh_graph_strict(VIP, expected_graph_digest=fresh)
    assert result.graph_digest == fresh
    assert [n.stream_table for n in result.nodes] == [SPEND, VIP]
    ctx = context()
    with pytest.raises(PgTrickleGraphChangedError):
        PgTrickleRefreshOperator(
            task_id="r", stream_tables=VIP, expected_graph_digest=digest
        ).execute(ctx)
    with pytest.raises(PgTrickleValidationError, match="not a hex digest"):
        hook.refresh_graph_strict(VIP, expected_graph_digest="zz")


@pytest.mark.usefixtures("pgtrickle_airflow_conn")
def test_caught_up_gate_on_external_tables_passes_after_the_strict_refresh(
    hook: PgTrickleHook,
    orders: str,
    pgtrickle_conn: psycopg.Connection[Any],
    pgtrickle_tick: Any,
    pgtrickle_version: str,
) -> None:
    """`wait_for_sources` on EXTERNAL tables: pg_trickle's scheduler never brings them up to
    their sources (a tick leaves them waiting); the strict graph refresh writes the frontiers
    the gate reads, so the sensor passes right after it."""
    _needs(pgtrickle_version, V0108)
    _external_chain(hook)
    pgtrickle_conn.execute("INSERT INTO public.orders VALUES (4, 3, 50)")
    gate = PgTrickleHealthSensor(
        task_id="caught_up",
        stream_tables=[SPEND],
        poke_interval=600,
        timeout=600,
        wait_for_sources=True,
        deferrable=False,
    )
    gate._start_sources_wait()
    assert gate.poke({}).is_done is False
    pgtrickle_tick()
    assert gate.poke({}).is_done is False
    hook.refresh_graph_strict(VIP)
    assert gate.poke({}).is_done is True


def test_a_managed_member_upstream_is_refused(
    hook: PgTrickleHook, orders: str, pgtrickle_version: str
) -> None:
    _needs(pgtrickle_version, V0108)
    hook.create_or_replace_stream_table(SPEND, ORDERS_QUERY)
    hook.create_or_replace_stream_table(VIP, VIP_QUERY, orchestration_mode="EXTERNAL")
    with pytest.raises(PgTrickleDatabaseError, match="is MANAGED; set it to EXTERNAL first"):
        hook.refresh_graph_strict(VIP)


# -- 0.67.0 ------------------------------------------------------------------------------------


def test_on_0_67_external_names_the_release(
    hook: PgTrickleHook, orders: str, pgtrickle_db: TestDatabase, pgtrickle_version: str
) -> None:
    """0.67.0: EXTERNAL and target_freshness fail before anything is sent, naming the release
    that brings them; MANAGED (the default) deploys as before; the refresh operator keeps the
    per-table path (no `graph_refresh` XCom)."""
    _needs(pgtrickle_version, V067)
    with pytest.raises(PgTrickleFeatureUnavailableError, match=r"0\.93\.0"):
        hook.create_or_replace_stream_table(SPEND, ORDERS_QUERY, orchestration_mode="EXTERNAL")
    with pytest.raises(PgTrickleFeatureUnavailableError, match=r"0\.86\.0"):
        hook.create_or_replace_stream_table(SPEND, ORDERS_QUERY, target_freshness="manual")
    assert fetch(pgtrickle_db, "SELECT count(*) FROM pgtrickle.pgt_stream_tables") == [(0,)]
    hook.create_or_replace_stream_table(SPEND, ORDERS_QUERY, orchestration_mode="MANAGED")
    with pytest.raises(PgTrickleFeatureUnavailableError, match=r"0\.93\.0"):
        hook.alter_stream_table(SPEND, orchestration_mode="EXTERNAL")
    with pytest.raises(
        PgTrickleFeatureUnavailableError,
        match=r"graph_contract`; it arrived in pg_trickle 0\.93\.0",
    ):
        hook.refresh_graph_strict(SPEND)
    ctx = context()
    out = PgTrickleRefreshOperator(task_id="r", stream_tables=SPEND).execute(ctx)
    assert [r["action"] for r in out] == ["refreshed"]
    assert "graph_refresh" not in ctx["ti"].xcom
