"""The poke-mode health sensor against a server that restarts, fills up or refuses us.

These tests stop, start and fill their own throwaway server, so they never disturb the
session's shared one.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest

from airflow_provider_pgtrickle.exceptions import PgTrickleConnectionError
from airflow_provider_pgtrickle.hooks.pgtrickle import PgTrickleHook
from airflow_provider_pgtrickle.sensors.pgtrickle import PgTrickleHealthSensor
from airflow_provider_pgtrickle.testing.server import TestDatabase, TestServer, start_double_server

from ._server_control import ServerControl
from .conftest import ORDERS_QUERY

pytestmark = [pytest.mark.requires_double, pytest.mark.slow]

ST = "public.order_totals"
CONN_ID = "pgt_own_server"


@pytest.fixture(scope="module")
def own_server() -> Iterator[TestServer]:
    with start_double_server(log_statements=False) as server:
        yield server


@pytest.fixture
def own_db(own_server: TestServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestDatabase]:
    db = own_server.create_database()
    for key, value in db.airflow_env(CONN_ID).items():
        monkeypatch.setenv(key, value)
    with db.connect() as conn:
        conn.execute("CREATE TABLE public.orders (id int PRIMARY KEY, customer_id int, amount int)")
        conn.execute("INSERT INTO public.orders VALUES (1, 1, 10), (2, 2, 7)")
    try:
        yield db
    finally:
        own_server.drop_database(db.dbname)


class RecordingSensor(PgTrickleHealthSensor):
    """The real sensor; it also records what each poke saw, so a test can wait for it."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.outcomes: list[str] = []

    def poke(self, context: Any) -> Any:
        try:
            result = super().poke(context)
        except BaseException as error:
            self.outcomes.append(f"raised {type(error).__name__}: {error}")
            raise
        failure = getattr(self, "_last_failure", None)
        self.outcomes.append(
            "done" if result.is_done else (failure.message if failure else "waiting")
        )
        return result


def sensor(**kwargs: Any) -> RecordingSensor:
    options: dict[str, Any] = {
        "task_id": "healthy",
        "stream_tables": [ST],
        "postgres_conn_id": CONN_ID,
        "poke_interval": 0.1,
        "timeout": 120,
        "deferrable": False,
    }
    options.update(kwargs)
    return RecordingSensor(**options)


def wait_for(condition: Callable[[], bool], what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.05)


def other_backends(db: TestDatabase) -> int:
    with db.connect() as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
        ).fetchone()
    assert row is not None
    return int(row[0])


def test_poke_sensor_waits_through_a_server_restart(
    own_server: TestServer, own_db: TestDatabase, capsys: pytest.CaptureFixture[str]
) -> None:
    hook = PgTrickleHook(postgres_conn_id=CONN_ID)
    hook.create_stream_table(ST, ORDERS_QUERY, initialize=False)
    control = ServerControl(own_server)
    s = sensor()
    result: dict[str, Any] = {}

    def run() -> None:
        try:
            result["value"] = s.execute({})
        except BaseException as error:  # handed to the test thread below
            result["error"] = error

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    held: psycopg.Connection[Any] | None = None
    try:
        wait_for(lambda: "waiting" in s.outcomes, "a first poke that waits")
        # Between pokes the sensor holds no connection.
        wait_for(lambda: other_backends(own_db) == 0, "no connection between pokes", 10)

        # A smart shutdown waits for open sessions and turns new connections away.
        held = own_db.connect()
        control.stop("smart", wait=False)
        wait_for(lambda: any("shutting down" in o for o in s.outcomes), "a poke during shutdown")
        held.close()
        control.wait_stopped()
        seen = len(s.outcomes)
        wait_for(lambda: len(s.outcomes) > seen + 1, "pokes while the server is down")
        control.start()
        wait_for(lambda: s.outcomes[-1] == "waiting", "a poke after the restart")
        hook.refresh_stream_table(ST)
        thread.join(60)
    finally:
        if held is not None:
            held.close()
        if thread.is_alive():
            s.timeout = 0  # let the sensor's loop end
            thread.join(30)
        control.ensure_running()
    assert "error" not in result, result.get("error")
    assert result["value"]["state"] == "healthy"
    assert not any(o.startswith("raised") for o in s.outcomes), s.outcomes
    # Airflow's task logger writes to stdout; each failed poke left a warning saying why.
    logged = capsys.readouterr().out.splitlines()
    assert any("shutting down" in line and "poking again" in line for line in logged)


def test_poke_sensor_backs_off_while_the_server_is_full(
    own_server: TestServer, own_db: TestDatabase, capsys: pytest.CaptureFixture[str]
) -> None:
    hook = PgTrickleHook(postgres_conn_id=CONN_ID)
    hook.create_stream_table(ST, ORDERS_QUERY)
    control = ServerControl(own_server)
    with own_db.connect() as conn:
        conn.execute("ALTER SYSTEM SET max_connections = 6")
    control.restart()
    held: list[psycopg.Connection[Any]] = []
    try:
        # Fill every slot (superusers may take the reserved ones too).
        with pytest.raises(psycopg.OperationalError, match="too many clients"):  # noqa: PT012
            for _ in range(20):
                held.append(own_db.connect())
        s = sensor(poke_interval=0.5, timeout=3600)
        intervals = []
        for _ in range(3):
            assert s.poke({}).is_done is False
            intervals.append(s._get_next_poke_interval(0.0, lambda: 0.0, 1))
        # Each busy poke doubles the wait (from max(poke_interval, 1 s)); Airflow's own
        # interval would have been 0.5 s every time.
        assert intervals == [1.0, 2.0, 4.0]
        logged = capsys.readouterr().out
        assert logged.count("too many clients already") == 3
        assert logged.count("waiting longer before the next poke") == 3
        # Bounded by the remaining time, never past the timeout.
        assert s._get_next_poke_interval(0.0, lambda: 3599.0, 1) == 1.0
        held.pop().close()
        done = s.poke({})
        assert done.is_done is True
        assert s._get_next_poke_interval(0.0, lambda: 0.0, 1) == 0.5
    finally:
        for conn in held:
            conn.close()
        with own_db.connect() as conn:
            conn.execute("ALTER SYSTEM RESET max_connections")
        control.restart()


@pytest.mark.parametrize(
    ("change", "text"),
    [
        ({"dbname": "pgt_no_such_database"}, 'database "pgt_no_such_database" does not exist'),
        ({"user": "pgt_no_such_role"}, 'role "pgt_no_such_role" does not exist'),
    ],
)
def test_poke_sensor_fails_at_once_when_the_server_refuses_for_good(
    own_db: TestDatabase, monkeypatch: pytest.MonkeyPatch, change: dict[str, str], text: str
) -> None:
    import dataclasses

    bad = dataclasses.replace(own_db, **change)
    for key, value in bad.airflow_env(CONN_ID).items():
        monkeypatch.setenv(key, value)
    s = sensor(timeout=3600)
    with pytest.raises(PgTrickleConnectionError, match=text) as info:
        s.execute({})
    assert len(s.outcomes) == 1
    assert f"`{CONN_ID}`" in str(info.value)
    assert str(info.value).endswith("grant the login CONNECT on the database.")
