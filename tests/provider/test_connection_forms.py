"""Every connection form the hook accepts works the same through hook, sensor and trigger.

The trigger builds its connection with the hook's own rule (`_connect.connection_kwargs`), so
host/port/user/dbname in the extra, Unix socket directories, `sslmode` and other libpq keys,
and the provider's own extra keys (`cursor`) behave identically in a deferred sensor.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from psycopg.rows import tuple_row

from airflow_provider_pgtrickle.hooks.pgtrickle import PgTrickleHook
from airflow_provider_pgtrickle.sensors.pgtrickle import PgTrickleHealthSensor
from airflow_provider_pgtrickle.testing.server import TestDatabase, TestServer
from airflow_provider_pgtrickle.triggers.pgtrickle import PgTrickleHealthTrigger

from .conftest import ORDERS_QUERY

ST = "public.order_totals"
CONN_ID = "pgt_form"


def _socket_dir(server: TestServer) -> Path:
    if server.data_dir is None:
        pytest.skip("the socket directory is known only for the throwaway test server")
    return server.data_dir.parent / "sock"


def forms(db: TestDatabase, server: TestServer) -> dict[str, str]:
    """`AIRFLOW_CONN_*` values, one per form."""
    user, port, name = quote(db.user, safe=""), db.port, quote(db.dbname, safe="")
    extra_only = {
        "conn_type": "postgres",
        "extra": {"host": db.host, "port": port, "user": db.user, "dbname": db.dbname},
    }
    overridden = {
        "conn_type": "postgres",
        "host": "pgtrickle-wrong-host.invalid",
        "port": 1,
        "login": db.user,
        "schema": "pgtrickle_wrong_db",
        "extra": {"host": db.host, "port": port, "dbname": db.dbname},
    }
    out = {
        "uri": f"postgres://{user}@{db.host}:{port}/{name}",
        "fields_in_extra": json.dumps(extra_only),
        "extra_overrides_fields": json.dumps(overridden),
        "libpq_options": (
            f"postgres://{user}@{db.host}:{port}/{name}"
            "?sslmode=disable&application_name=pgt_form&connect_timeout=5"
        ),
        "cursor_extra": f"postgres://{user}@{db.host}:{port}/{name}?cursor=dictcursor",
    }
    if server.data_dir is not None:
        sock = quote(str(_socket_dir(server)), safe="")
        out["socket_dir"] = f"postgresql://{user}@/{name}?host={sock}&port={port}"
    return out


FORMS = [
    "uri",
    "fields_in_extra",
    "extra_overrides_fields",
    "libpq_options",
    "cursor_extra",
    "socket_dir",
]


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.usefixtures("orders")
def test_hook_sensor_and_trigger_connect_with_every_form(
    form: str,
    pgtrickle_db: TestDatabase,
    pgtrickle_server: TestServer,
    hook: PgTrickleHook,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    hook.create_stream_table(ST, ORDERS_QUERY)
    available = forms(pgtrickle_db, pgtrickle_server)
    if form not in available:
        pytest.skip("needs the throwaway test server's socket directory")
    monkeypatch.setenv(f"AIRFLOW_CONN_{CONN_ID.upper()}", available[form])

    form_hook = PgTrickleHook(postgres_conn_id=CONN_ID)
    [row] = form_hook.fetch_health([ST])
    assert row.qualified_name == ST
    with form_hook.new_connection() as conn, conn.cursor(row_factory=tuple_row) as cur:
        cur.execute("SELECT current_database(), current_setting('application_name')")
        database, app = cur.fetchone() or (None, None)
    assert database == pgtrickle_db.dbname
    if form == "libpq_options":
        assert app == "pgt_form"

    sensor = PgTrickleHealthSensor(
        task_id="form", stream_tables=[ST], postgres_conn_id=CONN_ID, poke_interval=0, timeout=0
    )
    assert sensor.poke({}).is_done is True

    event = _trigger_event(CONN_ID)
    assert event["status"] == "success", event["message"]


def _trigger_event(conn_id: str) -> dict[str, Any]:
    trigger = PgTrickleHealthTrigger(
        postgres_conn_id=conn_id,
        stream_tables=[ST],
        schema=None,
        max_staleness=None,
        min_data_timestamp=None,
        fail_on_error=True,
        poll_interval=600,
        deadline=(datetime.now(timezone.utc) + timedelta(seconds=60)).isoformat(),
    )

    async def first_event() -> dict[str, Any]:
        async for event in trigger.run():
            return dict(event.payload)
        raise AssertionError("the trigger ended without an event")

    return asyncio.run(first_event())


@pytest.fixture
def restricted_role(pgtrickle_db: TestDatabase) -> Iterator[str]:
    """A login role without CONNECT on the test database, dropped afterwards."""
    role = f"pgt_nocon_{pgtrickle_db.dbname[-8:]}"
    # Creating a role is an administrator's job, also when tests run as the least role.
    with pgtrickle_db.admin_connect() as admin:
        admin.execute(f'CREATE ROLE "{role}" LOGIN')
        admin.execute(f'REVOKE CONNECT ON DATABASE "{pgtrickle_db.dbname}" FROM PUBLIC')
        yield role
        admin.execute(f'GRANT CONNECT ON DATABASE "{pgtrickle_db.dbname}" TO PUBLIC')
        admin.execute(f'DROP ROLE "{role}"')


def test_permission_error_says_grant_not_check_the_connection(
    pgtrickle_db: TestDatabase, restricted_role: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = pgtrickle_db
    uri = f"postgres://{restricted_role}@{db.host}:{db.port}/{db.dbname}"
    monkeypatch.setenv(f"AIRFLOW_CONN_{CONN_ID.upper()}", uri)
    event = _trigger_event(CONN_ID)
    assert event["status"] == "error"
    message = event["message"]
    assert "\n" not in message
    assert "permission denied for database" in message
    assert "grant the login CONNECT on the database" in message
    assert "check the connection" not in message


def test_unknown_role_says_fix_the_login(
    pgtrickle_db: TestDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    uri = f"postgres://pgt_nobody@{pgtrickle_db.host}:{pgtrickle_db.port}/{pgtrickle_db.dbname}"
    monkeypatch.setenv(f"AIRFLOW_CONN_{CONN_ID.upper()}", uri)
    event = _trigger_event(CONN_ID)
    assert event["status"] == "error"
    assert "\n" not in event["message"]
    assert 'role "pgt_nobody" does not exist' in event["message"]
    assert event["message"].endswith("fix the connection's login.")


def test_missing_extension_says_install_it(
    pgtrickle_server: TestServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pgtrickle_server.admin_connect() as admin:
        admin.execute("DROP DATABASE IF EXISTS pgt_forms_plain")
        admin.execute("CREATE DATABASE pgt_forms_plain")
    try:
        plain = pgtrickle_server.database("pgt_forms_plain")
        monkeypatch.setenv(f"AIRFLOW_CONN_{CONN_ID.upper()}", plain.airflow_uri)
        event = _trigger_event(CONN_ID)
    finally:
        with pgtrickle_server.admin_connect() as admin:
            admin.execute("DROP DATABASE pgt_forms_plain")
    assert event["status"] == "error"
    assert "\n" not in event["message"]
    assert "CREATE EXTENSION pg_trickle" in event["message"] or "install" in event["message"]
