"""Every read of pg_trickle state works for a role holding only what upstream's roles give.

pg_trickle 0.96.0 and later define `pgtrickle_reader` and `pgtrickle_operator` and grant them
no SELECT on any catalog table (sql/archive/pg_trickle--0.108.3.sql): a read that touches
`pgtrickle.pgt_stream_tables`, `pgt_refresh_history`, `pgt_dependencies` or the views fails
with "permission denied" for such a role, so each test below fails when the code reads the
catalog directly. The role here is a LOGIN role that is a member of `pgtrickle_reader` only
(no ownership, no other grant), or of `pgtrickle_operator` and the owner of the stream tables
it refreshes (pg_trickle checks the caller owns the table, src/api/helpers.rs). On 0.67.0
(`PGTRICKLE_TEST_VERSION=0.67.0`) the same tests run with the 0.67.0 reader grants of
`vocabulary.grants`. Setup and checks of committed state use the superuser's separate
connections.
"""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from airflow_support import TaskDeferred, context
from fastapi.testclient import TestClient
from psycopg import sql
from ui._auth import token_for
from ui.conftest import ui_app  # noqa: F401  (the UI app fixture)

from airflow_provider_pgtrickle.capabilities import ReadPath
from airflow_provider_pgtrickle.exceptions import PgTrickleUnhealthyError
from airflow_provider_pgtrickle.hooks.pgtrickle import PgTrickleHook
from airflow_provider_pgtrickle.operators.pgtrickle import (
    PgTrickleAlterStreamTableOperator,
    PgTrickleRefreshOperator,
    PgTrickleResumeOperator,
)
from airflow_provider_pgtrickle.sensors.pgtrickle import PgTrickleHealthSensor
from airflow_provider_pgtrickle.testing.server import TestDatabase
from airflow_provider_pgtrickle.triggers.pgtrickle import (
    PgTrickleHealthTrigger,
    PgTrickleStreamTableRefreshedTrigger,
)
from airflow_provider_pgtrickle.ui import data
from airflow_provider_pgtrickle.vocabulary import grants
from airflow_provider_pgtrickle.vocabulary.health import REASONS

from .conftest import ORDERS_QUERY
from .test_trigger_shared import Triggerer, hub_of, until

pytestmark = pytest.mark.requires_double

HEALTHY = "public.order_totals"
BROKEN = "public.big_orders"
CHAINED = "public.order_total_sum"
FAILURE = "simulated failure: disk full"
CONN = "postgres_default"


def _is_newer(db: TestDatabase) -> bool:
    with db.admin_connect() as conn:
        row = conn.execute(
            "SELECT extversion FROM pg_catalog.pg_extension WHERE extname = 'pg_trickle'"
        ).fetchone()
    assert row is not None
    return grants.model_version(row[0]) != "0.67.0"


def _make_role(db: TestDatabase, upstream_role: str, *parts: grants.Part) -> TestDatabase:
    """A LOGIN role with only `upstream_role` (0.96.0+) or the 0.67.0 grants of `parts`."""
    role = f"pgt_{parts[0].value}_{uuid.uuid4().hex[:8]}"
    password = uuid.uuid4().hex
    with db.admin_connect() as conn:
        conn.execute(
            sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
                sql.Identifier(role), sql.Literal(password)
            )
        )
        if _is_newer(db):
            # upstream's role and SELECT on the catalog tables the read functions read as
            # the caller (not SECURITY DEFINER: src/api/diagnostics.rs, pgt_status)
            assert any(upstream_role in s for s in grants.statements("0.108.3", parts, role))
            for statement in grants.statements("0.108.3", parts, role):
                conn.execute(statement.encode())
        else:
            for statement in grants.statements("0.67.0", parts, role):
                conn.execute(statement.encode())
            # The 0.67.0 double's own bookkeeping of pending changes (pg_trickle has no such
            # table; testing/_least_role.py grants it the same way).
            conn.execute(
                sql.SQL("GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE {} TO {}").format(
                    sql.Identifier("pgtrickle_changes", "pgt_pending"), sql.Identifier(role)
                )
            )
    # The superuser stays reachable through admin_connect() for setup and checks.
    admin_user, admin_password = (
        (db.admin_user, db.admin_password) if db.admin_user else (db.user, db.password)
    )
    return dataclasses.replace(
        db, user=role, password=password, admin_user=admin_user, admin_password=admin_password
    )


def _drop_role(db: TestDatabase, role: str) -> None:
    with db.admin_connect() as conn:
        conn.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(role)))
        conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))


@pytest.fixture
def scenario(pgtrickle_db: TestDatabase, pgtrickle_tick: Any) -> TestDatabase:
    """Three stream tables set up by the superuser: healthy, ERROR, and one reading another."""
    with pgtrickle_db.admin_connect() as conn:
        conn.execute(
            "CREATE TABLE public.orders (id int PRIMARY KEY, customer_id int NOT NULL,"
            " amount numeric NOT NULL)"
        )
        conn.execute("INSERT INTO public.orders VALUES (1, 1, 10), (2, 1, 5), (3, 2, 7)")
        create = "SELECT pgtrickle.create_stream_table(name => %s, query => %s, schedule => %s)"
        conn.execute(create, [HEALTHY, ORDERS_QUERY, "1m"])
        conn.execute(create, [CHAINED, f"SELECT sum(total) AS total FROM {HEALTHY}", "1m"])
        conn.execute(
            create, [BROKEN, "SELECT id, amount FROM public.orders WHERE amount > 6", "1s"]
        )
        conn.execute("SELECT pgtrickle_test.inject_failure(%s, %s, true)", [BROKEN, FAILURE])
        conn.execute("SELECT pgtrickle_test.age_stream_table(%s, '1 hour')", [BROKEN])
    pgtrickle_tick()
    return pgtrickle_db


@pytest.fixture
def reader(scenario: TestDatabase, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestDatabase]:
    """`postgres_default` logs in as a member of `pgtrickle_reader` only."""
    db = _make_role(scenario, "pgtrickle_reader", grants.Part.READER)
    for key, value in db.airflow_env(CONN).items():
        monkeypatch.setenv(key, value)
    try:
        yield db
    finally:
        _drop_role(scenario, db.user)


# The catalog relations a READER path must not name in a statement it sends on 0.104+: it reads
# through the read functions only (their frozen names and columns), even though 0.108.3's
# functions make the reader hold SELECT on these (so a permission error cannot show a direct
# read). pg_stat_statements with `track = top` records what the client sent, per role.
CATALOG_RELATIONS = (
    "pgt_stream_tables",
    "pgt_refresh_history",
    "pgt_dependencies",
    "stream_tables_info",
)


class StatementWatch:
    """The top-level statements one role sent in one database, from pg_stat_statements."""

    def __init__(self, db: TestDatabase) -> None:
        self.db = db
        with db.admin_connect() as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
            row = conn.execute(
                "SELECT r.oid, d.oid FROM pg_roles r, pg_database d"
                " WHERE r.rolname = %s AND d.datname = current_database()",
                [db.user],
            ).fetchone()
        assert row is not None
        self.userid, self.dbid = row

    def reset(self) -> None:
        with self.db.admin_connect() as conn:
            conn.execute(
                "SELECT pg_stat_statements_reset(userid => %s, dbid => %s)",
                [self.userid, self.dbid],
            )

    def statements(self) -> list[str]:
        with self.db.admin_connect() as conn:
            return [
                str(r[0])
                for r in conn.execute(
                    "SELECT query FROM pg_stat_statements"
                    " WHERE userid = %s AND dbid = %s AND toplevel",
                    [self.userid, self.dbid],
                ).fetchall()
            ]

    def catalog_reads(self) -> list[str]:
        """Statements of the role that name a catalog relation directly."""
        # The health query's one catalog read (why a table is suspended: no read function
        # returns it; vocabulary.health.REASONS) is the documented exception.
        return [
            q
            for q in self.statements()
            if any(rel in q.replace(REASONS, "") for rel in CATALOG_RELATIONS)
        ]

    def assert_functions_only(self) -> None:
        assert self.catalog_reads() == []


class NoWatch:
    """Where statements cannot be checked: 0.67.0 (read through its catalog by design) or a
    server without pg_stat_statements (`assert_functions_only` skips, naming why)."""

    def __init__(self, reason: str | None) -> None:
        self.reason = reason

    def assert_functions_only(self) -> None:
        if self.reason is not None:
            pytest.skip(self.reason)


@pytest.fixture
def watch(reader: TestDatabase) -> StatementWatch | NoWatch:
    """Statements `reader` sends, reset at the start. Each READER-path test ends with
    `watch.assert_functions_only()`: on 0.104+ no statement the role sent names a catalog
    relation."""
    if not _is_newer(reader):
        return NoWatch(None)
    with reader.admin_connect() as conn:
        loaded = conn.execute("SELECT current_setting('shared_preload_libraries')").fetchone()
    if loaded is None or "pg_stat_statements" not in str(loaded[0]):
        return NoWatch(
            "the server does not load pg_stat_statements (shared_preload_libraries), so the "
            "statements the reader sends cannot be checked"
        )
    found = StatementWatch(reader)
    found.reset()
    return found


def test_the_detector_reports_a_direct_catalog_read(
    reader: TestDatabase, watch: StatementWatch | NoWatch
) -> None:
    """The check below can fail: one direct SELECT of the catalog by the reader is seen."""
    if isinstance(watch, NoWatch):
        watch.assert_functions_only()
        pytest.skip("pg_trickle 0.67.0 is read through its catalog by design")
    assert watch.catalog_reads() == []
    with reader.connect() as conn:
        conn.execute("SELECT count(*) FROM pgtrickle.pgt_stream_tables").fetchone()
        conn.execute("SELECT * FROM pgtrickle.pgt_status()").fetchall()
    seen = watch.catalog_reads()
    assert len(seen) == 1
    assert "pgtrickle.pgt_stream_tables" in seen[0]
    # the function call itself is recorded, the SELECT inside it is not (track = top)
    assert any("pgt_status()" in q for q in watch.statements())


def _catalog_status(db: TestDatabase, name: str) -> str:
    with db.admin_connect() as conn:
        row = conn.execute(
            "SELECT status FROM pgtrickle.pgt_stream_tables"
            " WHERE pgt_schema || '.' || pgt_name = %s",
            [name],
        ).fetchone()
    assert row is not None
    return str(row[0])


# READER paths that read the catalog directly on purpose, and why. `list_stream_tables()` and
# `get_stream_table()` return the whole catalog row (`StreamTable`: pgt_id, original_query,
# the diamond, pooler and delta-fraction settings, ...), which no read function exposes
# (stream_table_spec has part of it); on 0.108.3 the reader holds SELECT on
# pgtrickle.pgt_stream_tables anyway (the read functions need it), so they keep working.
# Creator paths may read the catalog too (the create-or-replace snapshot compares the stored
# row, TopK parts included) and are not checked here.
CATALOG_ROW_READ = "FROM pgtrickle.pgt_stream_tables WHERE"


def test_the_catalog_row_reads_are_the_documented_exception(
    reader: TestDatabase, watch: StatementWatch | NoWatch
) -> None:
    hook = PgTrickleHook(postgres_conn_id=CONN)
    assert [t.qualified_name for t in hook.list_stream_tables()] == sorted(
        [HEALTHY, BROKEN, CHAINED]
    )
    found = hook.get_stream_table(BROKEN)
    assert found is not None
    assert found.status.value == "ERROR"
    if isinstance(watch, NoWatch):
        watch.assert_functions_only()
        return
    seen = watch.catalog_reads()
    assert len(seen) == 2
    assert all("FROM pgtrickle.pgt_stream_tables" in q for q in seen)
    assert sum(CATALOG_ROW_READ in q for q in seen) == 1  # get_stream_table's name filter


def test_the_reader_reads_through_the_functions_on_newer_servers(reader: TestDatabase) -> None:
    """0.108.3's read functions read the catalog as the caller, so the reader holds SELECT on
    it (vocabulary.grants); the product still reads through the functions (the detector
    below checks it does)."""
    if not _is_newer(reader):
        pytest.skip("pg_trickle 0.67.0 reads the catalog with its granted SELECT")
    hook = PgTrickleHook(postgres_conn_id=CONN)
    assert hook.read_path() is ReadPath.FUNCTIONS


def test_hook_reads(reader: TestDatabase, watch: StatementWatch | NoWatch) -> None:
    hook = PgTrickleHook(postgres_conn_id=CONN)
    health = {row.qualified_name: row for row in hook.fetch_health()}
    assert set(health) == {HEALTHY, BROKEN, CHAINED}
    assert health[BROKEN].status.value == _catalog_status(reader, BROKEN) == "ERROR"
    assert health[BROKEN].last_error_message == FAILURE
    assert health[HEALTHY].status.value == "ACTIVE"
    assert health[HEALTHY].data_timestamp is not None
    named = hook.fetch_health([HEALTHY, "public.nope"])
    assert [row.qualified_name for row in named] == [HEALTHY]
    stats = {s.qualified_name: s for s in hook.get_stats()}
    assert stats[HEALTHY].total_refreshes >= 1
    assert [s.qualified_name for s in hook.get_stats(names=[BROKEN])] == [BROKEN]
    history = hook.get_refresh_history(BROKEN)
    assert history
    assert history[0].status == "FAILED"
    edges = {(e.stream_table, e.source, e.source_type) for e in hook.dependency_graph()}
    assert (HEALTHY, "public.orders", "TABLE") in edges
    assert (CHAINED, HEALTHY, "STREAM_TABLE") in edges
    plan = {p.name: p for p in hook.refresh_plan()}
    assert plan[CHAINED].upstream == (HEALTHY,)
    assert plan[BROKEN].status.value == "ERROR"
    assert {c.check_name for c in hook.health_check()}
    assert hook.stream_tables_needing_recreation() == []
    watch.assert_functions_only()


def test_health_sensor_pokes(
    reader: TestDatabase, watch: StatementWatch | NoWatch, pgtrickle_tick: Any
) -> None:
    ok = PgTrickleHealthSensor(task_id="ok", stream_tables=[HEALTHY, CHAINED], poke_interval=0)
    assert ok.poke({}).is_done is True
    broken = PgTrickleHealthSensor(task_id="broken", stream_tables=[BROKEN], poke_interval=0)
    with pytest.raises(PgTrickleUnhealthyError, match="simulated failure"):
        broken.poke({})
    whole = PgTrickleHealthSensor(task_id="all", schema="public", poke_interval=0)
    with pytest.raises(PgTrickleUnhealthyError):
        whole.poke({})
    watch.assert_functions_only()


def test_caught_up_gate_pokes(reader: TestDatabase, watch: StatementWatch | NoWatch) -> None:
    sensor = PgTrickleHealthSensor(
        task_id="caught_up",
        stream_tables=[HEALTHY],
        poke_interval=600,
        timeout=600,
        wait_for_sources=True,
    )
    with reader.admin_connect() as conn:
        conn.execute("INSERT INTO public.orders VALUES (4, 3, 1)")
    sensor._start_sources_wait()
    assert sensor.poke({}).is_done is False
    assert sensor._last_report is not None
    assert "refreshed yet" in sensor._last_report.message
    with reader.admin_connect() as conn:
        conn.execute("SELECT pgtrickle.refresh_stream_table(%s)", [HEALTHY])
        total = conn.execute(f"SELECT total FROM {HEALTHY} WHERE customer_id = 3").fetchone()
    assert total is not None  # the refresh consumed the change (committed state)
    assert sensor.poke({}).is_done is True
    watch.assert_functions_only()


def _refresh(db: TestDatabase, name: str) -> None:
    with db.admin_connect() as conn:
        conn.execute("SELECT pgtrickle.refresh_stream_table(%s)", [name])


def test_health_sensor_defers_to_its_trigger(
    reader: TestDatabase, watch: StatementWatch | NoWatch
) -> None:
    # A source change committed before the sensor starts: it waits for the refresh.
    with reader.admin_connect() as conn:
        conn.execute("INSERT INTO public.orders VALUES (5, 3, 2)")
    with pytest.raises(TaskDeferred) as info:
        PgTrickleHealthSensor(
            task_id="deferred",
            stream_tables=[HEALTHY],
            deferrable=True,
            wait_for_sources=True,
            poke_interval=1,  # the trigger's poll: a manual refresh sends no notification
        ).execute(context())
    trigger = info.value.trigger
    assert isinstance(trigger, PgTrickleHealthTrigger)

    async def run() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        triggerer = Triggerer()
        try:
            triggerer.start([trigger])
            hub = hub_of(trigger)
            await until(lambda: hub.queries >= 1)
            await asyncio.sleep(0.5)
            before = list(triggerer.events[0])
            await asyncio.to_thread(_refresh, reader, HEALTHY)
            return before, await triggerer.finished(timeout=30)
        finally:
            await triggerer.stop()

    before, [event] = asyncio.run(run())
    assert before == []
    assert event["status"] == "success", event
    watch.assert_functions_only()


def test_refresh_watcher_fires(reader: TestDatabase, watch: StatementWatch | NoWatch) -> None:
    """The asset watcher's reads (`CHANGED_AT_BY_FUNCTIONS` on 0.96.0+) as the reader."""

    async def run() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        triggerer = Triggerer()
        watcher = PgTrickleStreamTableRefreshedTrigger(
            postgres_conn_id=CONN, stream_table=HEALTHY, poll_interval=1
        )
        try:
            triggerer.start([watcher])
            hub = hub_of(watcher)
            await until(lambda: hub.queries >= 1)
            await asyncio.sleep(0.5)
            quiet = list(triggerer.events[0])
            with reader.admin_connect() as conn:
                conn.execute("INSERT INTO public.orders VALUES (7, 4, 2)")
            await asyncio.to_thread(_refresh, reader, HEALTHY)
            await until(lambda: len(triggerer.events[0]) >= 1)
            return quiet, list(triggerer.events[0])
        finally:
            await triggerer.stop()

    quiet, events = asyncio.run(run())
    assert quiet == []
    assert events[0]["stream_table"] == HEALTHY
    watch.assert_functions_only()


def test_ui_page_and_its_api(
    reader: TestDatabase,
    watch: StatementWatch | NoWatch,
    ui_app: Any,  # noqa: F811
) -> None:
    hook = PgTrickleHook(postgres_conn_id=CONN)
    overview = data.overview(hook, CONN)
    rows = {t.name: t for t in overview.stream_tables}
    assert set(rows) == {HEALTHY, BROKEN, CHAINED}
    assert rows[BROKEN].health is data.Health.FAILED
    assert rows[BROKEN].last_error_message == FAILURE
    assert rows[BROKEN].last_error_at is not None
    assert rows[HEALTHY].health is data.Health.HEALTHY
    assert (rows[HEALTHY].fuse_mode, rows[HEALTHY].fuse_state) == ("off", "armed")
    assert not rows[HEALTHY].needs_recreation
    assert {(e.source, e.target) for e in overview.edges} >= {(HEALTHY, CHAINED)}
    with TestClient(ui_app) as client:
        client.cookies.set("_token", token_for("viewer"))
        body = client.get(f"/api/connections/{CONN}/overview")
        assert body.status_code == 200, body.text
        assert {t["name"]: t["health"] for t in body.json()["stream_tables"]} == {
            HEALTHY: "healthy",
            CHAINED: "healthy",
            BROKEN: "failed",
        }
        history = client.get(f"/api/connections/{CONN}/stream-tables/{BROKEN}/history")
        assert history.status_code == 200, history.text
    watch.assert_functions_only()


def test_a_v1_table_left_by_an_upgrade_is_shown_as_needing_recreation(
    reader: TestDatabase,
    watch: StatementWatch | NoWatch,
    ui_app: Any,  # noqa: F811
) -> None:
    if not _is_newer(reader):
        pytest.skip("row identity V1 is the only one on pg_trickle 0.67.0")
    # What ALTER EXTENSION ... UPDATE leaves behind for a table created on 0.67.0: storage
    # with the V1 identity column (BIGINT), which 0.87.16 and later do not convert.
    with reader.admin_connect() as conn:
        conn.execute(
            "ALTER TABLE public.order_totals ALTER COLUMN __pgt_row_id TYPE bigint"
            " USING ('x' || left(encode(__pgt_row_id, 'hex'), 15))::bit(60)::bigint"
        )
    hook = PgTrickleHook(postgres_conn_id=CONN)
    assert hook.stream_tables_needing_recreation() == [HEALTHY]
    rows = {t.name: t for t in data.overview(hook, CONN).stream_tables}
    assert rows[HEALTHY].needs_recreation
    assert not rows[CHAINED].needs_recreation
    with TestClient(ui_app) as client:
        client.cookies.set("_token", token_for("viewer"))
        body = client.get(f"/api/connections/{CONN}/overview").json()
    assert {t["name"] for t in body["stream_tables"] if t["needs_recreation"]} == {HEALTHY}
    watch.assert_functions_only()


@pytest.fixture
def operator_role(
    scenario: TestDatabase, monkeypatch: pytest.MonkeyPatch
) -> Iterator[TestDatabase]:
    """`postgres_default` logs in as a member of `pgtrickle_operator` (0.67.0: the 0.67.0
    grants) that owns the tables and their source."""
    # 0.67.0 has no operator role: the least-privilege kit's grants (every part), as a
    # deployment that refreshes what it created holds them.
    db = _make_role(scenario, "pgtrickle_operator", *grants.Part)
    with scenario.admin_connect() as conn:
        if not _is_newer(scenario):
            # 0.67.0 refreshes as the caller, consuming the change buffers; the superuser
            # created these (a deployment's own role creates, and owns, its buffers).
            conn.execute(
                sql.SQL("GRANT ALL ON ALL TABLES IN SCHEMA pgtrickle_changes TO {}").format(
                    sql.Identifier(db.user)
                )
            )
        # The deployment's role owns its stream tables and their sources (0.67.0 refreshes
        # read the source as the caller).
        for name in (HEALTHY, BROKEN, "public.orders"):
            conn.execute(
                sql.SQL("ALTER TABLE {} OWNER TO {}").format(
                    sql.Identifier(*name.split(".")), sql.Identifier(db.user)
                )
            )
    for key, value in db.airflow_env(CONN).items():
        monkeypatch.setenv(key, value)
    try:
        yield db
    finally:
        _drop_role(scenario, db.user)


def test_refresh_resume_and_pause_as_an_operator(operator_role: TestDatabase) -> None:
    with operator_role.admin_connect() as conn:
        conn.execute("INSERT INTO public.orders VALUES (6, 4, 3)")
    [result] = PgTrickleRefreshOperator(task_id="refresh", stream_tables=HEALTHY).execute(context())
    assert result["stream_table"] == HEALTHY
    with operator_role.admin_connect() as conn:
        assert conn.execute(f"SELECT total FROM {HEALTHY} WHERE customer_id = 4").fetchone()
    with operator_role.admin_connect() as conn:
        conn.execute("DELETE FROM pgtrickle_test.injected_failures")
    PgTrickleResumeOperator(task_id="resume", stream_tables=BROKEN).execute(context())
    assert _catalog_status(operator_role, BROKEN) == "ACTIVE"
    PgTrickleAlterStreamTableOperator(
        task_id="pause", stream_table=HEALTHY, status="PAUSED"
    ).execute(context())
    assert _catalog_status(operator_role, HEALTHY) == "SUSPENDED"
