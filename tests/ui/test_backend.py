"""The stream tables page's endpoints against PostgreSQL 18 with the pg_trickle double.

Requests go through FastAPI's test client to the plugin's app with Airflow's auth manager,
so authentication is Airflow's own (JWT in the `_token` cookie or a bearer header).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from airflow_provider_pgtrickle.testing.server import TestDatabase, TestServer
from ui._auth import token_for
from ui._scenario import BROKEN, CHAINED, FAILURE, HEALTHY, SOURCES, STREAM_TABLES, build

CONN = "warehouse"
pytestmark = pytest.mark.requires_double


@pytest.fixture
def warehouse(
    pgtrickle_db: TestDatabase,
    pgtrickle_conn: psycopg.Connection[Any],
    pgtrickle_tick: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> TestDatabase:
    with pgtrickle_db.admin_connect() as admin:
        build(pgtrickle_conn, pgtrickle_tick, admin)
    for key, value in pgtrickle_db.airflow_env(CONN).items():
        monkeypatch.setenv(key, value)
    return pgtrickle_db


@pytest.fixture
def client(ui_app: Any) -> Iterator[TestClient]:
    with TestClient(ui_app) as test_client:
        test_client.cookies.set("_token", token_for("viewer"))
        yield test_client


@pytest.fixture
def anonymous(ui_app: Any) -> Iterator[TestClient]:
    with TestClient(ui_app) as test_client:
        yield test_client


def test_overview_lists_every_stream_table_with_its_health(
    warehouse: TestDatabase, client: TestClient
) -> None:
    response = client.get(f"/api/connections/{CONN}/overview")
    assert response.status_code == 200, response.text
    body = response.json()
    rows = {t["name"]: t for t in body["stream_tables"]}
    assert [t["name"] for t in body["stream_tables"]] == list(STREAM_TABLES)
    healthy = rows[HEALTHY]
    assert (healthy["status"], healthy["health"], healthy["schedule"]) == (
        "ACTIVE",
        "healthy",
        "1m",
    )
    assert healthy["refresh_mode"] == "DIFFERENTIAL"
    assert healthy["last_refresh_at"] is not None
    assert healthy["staleness_seconds"] is not None
    assert healthy["staleness_seconds"] < 600
    assert (healthy["fuse_mode"], healthy["fuse_state"]) == ("off", "armed")
    # No manifest configured: whether dbt manages a table is unknown, not "no".
    assert (healthy["dbt_managed"], healthy["dbt_model"]) == (None, None)
    broken = rows[BROKEN]
    assert (broken["status"], broken["health"]) == ("ERROR", "failed")
    assert broken["last_error_message"] == FAILURE  # the full text, not a truncation
    assert broken["last_error_at"] is not None
    assert FAILURE in broken["health_reason"]
    # The catalog agrees, read from a separate (superuser) connection.
    with warehouse.admin_connect() as conn:
        catalog = dict(
            conn.execute(
                "SELECT pgt_schema || '.' || pgt_name, status FROM pgtrickle.pgt_stream_tables"
            ).fetchall()
        )
    assert {name: row["status"] for name, row in rows.items()} == catalog


def test_graph_has_sources_and_stream_tables_with_their_edges(
    warehouse: TestDatabase, client: TestClient
) -> None:
    body = client.get(f"/api/connections/{CONN}/overview").json()
    nodes = {n["id"]: n for n in body["nodes"]}
    assert set(nodes) == set(STREAM_TABLES) | set(SOURCES)
    assert {n["kind"] for i, n in nodes.items() if i in SOURCES} == {"TABLE"}
    assert nodes[HEALTHY]["health"] == "healthy"
    assert nodes[BROKEN]["health"] == "failed"
    edges = {(e["source"], e["target"]) for e in body["edges"]}
    assert edges == {
        ("public.orders", HEALTHY),
        ("public.orders", BROKEN),
        (HEALTHY, CHAINED),
        ("public.customers", CHAINED),
    }


def test_dbt_manifest_says_which_tables_dbt_manages(
    warehouse: TestDatabase,
    client: TestClient,
    tmp_path: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    manifest = tmp_path / "manifest.json"
    model = {
        "resource_type": "model",
        "schema": "analytics",
        "name": "order_totals",
        "alias": "order_totals",
        "config": {"materialized": "stream_table"},
    }
    table_model = {**model, "name": "order_audit", "alias": "order_audit"}
    table_model["config"] = {"materialized": "table"}
    nodes = {"model.shop.order_totals": model, "model.shop.order_audit": table_model}
    manifest.write_text(json.dumps({"nodes": nodes}))
    monkeypatch.setenv("AIRFLOW__PGTRICKLE_UI__DBT_MANIFEST_PATH", str(manifest))
    rows = {
        t["name"]: t
        for t in client.get(f"/api/connections/{CONN}/overview").json()["stream_tables"]
    }
    assert (rows[HEALTHY]["dbt_managed"], rows[HEALTHY]["dbt_model"]) == (
        True,
        "model.shop.order_totals",
    )
    # Not a stream_table model, and no model at all: both "no", not "unknown".
    assert rows[BROKEN]["dbt_managed"] is False
    assert rows[CHAINED]["dbt_managed"] is False


def test_history_lists_refreshes_oldest_first(
    warehouse: TestDatabase, client: TestClient, pgtrickle_conn: psycopg.Connection[Any]
) -> None:
    pgtrickle_conn.execute("INSERT INTO public.orders VALUES (4, 2, 1)")
    pgtrickle_conn.execute("SELECT pgtrickle.refresh_stream_table(%s)", [HEALTHY])
    response = client.get(f"/api/connections/{CONN}/stream-tables/{HEALTHY}/history")
    assert response.status_code == 200, response.text
    history = response.json()["history"]
    with warehouse.admin_connect() as conn:
        expected = [
            r[0]
            for r in conn.execute(
                "SELECT h.refresh_id FROM pgtrickle.pgt_refresh_history AS h"
                " JOIN pgtrickle.pgt_stream_tables AS st USING (pgt_id)"
                " WHERE st.pgt_schema || '.' || st.pgt_name = %s ORDER BY h.refresh_id",
                [HEALTHY],
            )
        ]
    assert [h["refresh_id"] for h in history] == expected
    assert len(expected) >= 2
    newest = history[-1]
    assert newest["status"] == "COMPLETED"
    assert newest["duration_ms"] is not None
    assert newest["rows_inserted"] is not None


def test_connections_lists_postgres_and_pgtrickle_types_only(
    warehouse: TestDatabase, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_OTHER_HTTP", "http://example.invalid")
    monkeypatch.setenv("AIRFLOW_CONN_TRICKLE", '{"conn_type": "pgtrickle", "host": "db"}')
    ids = {
        c["connection_id"]: c["conn_type"]
        for c in client.get("/api/connections").json()["connections"]
    }
    assert ids[CONN] == "postgres"
    assert ids["trickle"] == "pgtrickle"
    assert "other_http" not in ids


@pytest.mark.parametrize(
    "path",
    [
        "/api/config",
        "/api/connections",
        f"/api/connections/{CONN}/overview",
        f"/api/connections/{CONN}/stream-tables/{HEALTHY}/history",
    ],
)
def test_anonymous_requests_are_refused(
    warehouse: TestDatabase, anonymous: TestClient, path: str
) -> None:
    response = anonymous.get(path)
    assert response.status_code == 401
    assert "stream_tables" not in response.text
    assert HEALTHY not in response.text


def test_forged_token_is_refused(warehouse: TestDatabase, anonymous: TestClient) -> None:
    anonymous.cookies.set("_token", "eyJhbGciOiJIUzUxMiJ9.eyJzdWIiOiJhZG1pbiJ9.c2ln")
    response = anonymous.get(f"/api/connections/{CONN}/overview")
    assert response.status_code in (401, 403)
    assert HEALTHY not in response.text


def test_bearer_token_is_accepted(warehouse: TestDatabase, anonymous: TestClient) -> None:
    response = anonymous.get(
        f"/api/connections/{CONN}/overview",
        headers={"Authorization": f"Bearer {token_for('viewer')}"},
    )
    assert response.status_code == 200, response.text


def test_page_and_assets_are_served_from_the_package(anonymous: TestClient) -> None:
    page = anonymous.get("/")
    assert page.status_code == 200
    assert 'src="static/app.js"' in page.text
    for asset in ("static/app.js", "static/app.css", "static/icon.svg"):
        assert anonymous.get("/" + asset).status_code == 200
    # Nothing is fetched from elsewhere at run time.
    assert "http" not in anonymous.get("/static/app.js").text.replace("http://www.w3.org", "")
    assert "//" not in page.text.replace("<!doctype", "")


def test_unknown_connection_is_a_clear_404(warehouse: TestDatabase, client: TestClient) -> None:
    response = client.get("/api/connections/nope/overview")
    assert response.status_code == 404
    assert "Connection `nope` is not defined" in response.json()["detail"]


def test_connection_of_another_type_is_refused(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_WEB", "http://example.invalid")
    response = client.get("/api/connections/web/overview")
    assert response.status_code == 400
    assert "has type `http`" in response.json()["detail"]


def test_database_without_the_extension_is_a_clear_409(
    pgtrickle_server: TestServer, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pgtrickle_server.admin_connect() as admin:
        admin.autocommit = True
        admin.execute("DROP DATABASE IF EXISTS pgt_ui_plain")
        admin.execute("CREATE DATABASE pgt_ui_plain")
    try:
        plain = pgtrickle_server.database("pgt_ui_plain")
        monkeypatch.setenv("AIRFLOW_CONN_PLAIN", plain.airflow_uri)
        response = client.get("/api/connections/plain/overview")
        assert response.status_code == 409, response.text
        detail = response.json()["detail"]
        assert "`pg_trickle` extension" in detail
        assert "CREATE EXTENSION pg_trickle" in detail
    finally:
        with pgtrickle_server.admin_connect() as admin:
            admin.autocommit = True
            admin.execute("DROP DATABASE pgt_ui_plain WITH (FORCE)")


def test_unreachable_database_is_a_clear_502_without_the_password(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(
        "AIRFLOW_CONN_GONE", "postgres://someone:s3cret-pw@127.0.0.1:9/nowhere?connect_timeout=2"
    )
    response = client.get("/api/connections/gone/overview")
    assert response.status_code == 502
    detail = response.json()["detail"]
    assert "Connection `gone`" in detail
    assert "s3cret-pw" not in detail


def test_actions_are_off_by_default(
    warehouse: TestDatabase, client: TestClient, pgtrickle_conn: psycopg.Connection[Any]
) -> None:
    client.cookies.set("_token", token_for("admin"))
    response = client.post(f"/api/connections/{CONN}/stream-tables/{HEALTHY}/refresh")
    assert response.status_code == 403
    assert "enable_actions" in response.json()["detail"]
    assert client.get("/api/config").json()["actions_enabled"] is False


def test_actions_need_permission_to_edit_the_connection(
    warehouse: TestDatabase,
    client: TestClient,
    pgtrickle_conn: psycopg.Connection[Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AIRFLOW__PGTRICKLE_UI__ENABLE_ACTIONS", "True")
    count = "SELECT count(*) FROM pgtrickle.pgt_refresh_history"
    admin = warehouse.admin_connect()
    before = admin.execute(count).fetchone()
    refresh = f"/api/connections/{CONN}/stream-tables/{HEALTHY}/refresh"
    response = client.post(refresh)  # a viewer
    assert response.status_code == 403
    assert "permission to edit" in response.json()["detail"]
    assert admin.execute(count).fetchone() == before

    client.cookies.set("_token", token_for("admin"))
    response = client.post(refresh)
    assert response.status_code == 200, response.text
    assert response.json()["result"]["action"] == "refreshed"
    assert admin.execute(count).fetchone()[0] == before[0] + 1  # type: ignore[index]

    admin.execute("SELECT pgtrickle_test.clear_failures(%s)", [BROKEN])
    admin.close()
    response = client.post(f"/api/connections/{CONN}/stream-tables/{BROKEN}/resume")
    assert response.status_code == 200, response.text
    with warehouse.admin_connect() as conn:
        status = conn.execute(
            "SELECT status FROM pgtrickle.pgt_stream_tables WHERE pgt_name = 'order_audit'"
        ).fetchone()
    assert status == ("ACTIVE",)


def test_refresh_of_a_table_in_error_is_refused_with_the_reason(
    warehouse: TestDatabase, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIRFLOW__PGTRICKLE_UI__ENABLE_ACTIONS", "True")
    client.cookies.set("_token", token_for("admin"))
    response = client.post(f"/api/connections/{CONN}/stream-tables/{BROKEN}/refresh")
    assert response.status_code in (400, 502), response.text
    assert BROKEN in response.json()["detail"]


def test_fuse_mode_and_state_come_from_the_catalog(
    warehouse: TestDatabase, client: TestClient, pgtrickle_conn: psycopg.Connection[Any]
) -> None:
    pgtrickle_conn.execute("SELECT pgtrickle.alter_stream_table(%s, fuse => 'on')", [HEALTHY])
    rows = {
        t["name"]: t
        for t in client.get(f"/api/connections/{CONN}/overview").json()["stream_tables"]
    }
    assert (rows[HEALTHY]["fuse_mode"], rows[HEALTHY]["fuse_state"]) == ("on", "armed")
    assert rows[HEALTHY]["health"] == "healthy"


def test_a_resumed_table_with_a_blown_fuse_is_failed_by_the_health_rules(
    warehouse: TestDatabase, client: TestClient, pgtrickle_conn: psycopg.Connection[Any]
) -> None:
    """What `resume_stream_table` leaves after a fuse blew (ACTIVE, fuse still blown, so the
    scheduler holds it): failed, in the health rules' words, as the sensor says too."""
    with warehouse.admin_connect() as admin:  # what pg_trickle's own worker writes
        admin.execute(
            "UPDATE pgtrickle.pgt_stream_tables SET fuse_mode = 'on', fuse_state = 'blown',"
            " blown_at = now(), blow_reason = 'too many changes'"
            " WHERE pgt_schema || '.' || pgt_name = %s",
            [HEALTHY],
        )
    rows = {
        t["name"]: t
        for t in client.get(f"/api/connections/{CONN}/overview").json()["stream_tables"]
    }
    assert (rows[HEALTHY]["status"], rows[HEALTHY]["health"]) == ("ACTIVE", "failed")
    assert rows[HEALTHY]["health_reason"] == (
        "has a blown fuse (too many changes): refreshes are held until pgtrickle.reset_fuse"
    )
    assert rows[CHAINED]["health"] != "failed"


def test_the_page_reads_the_statuses_from_the_vocabulary(client: TestClient) -> None:
    """The status filter and the Resume button take their statuses from /api/config; the
    static files spell out none."""
    from airflow_provider_pgtrickle.types import StreamTableStatus
    from airflow_provider_pgtrickle.ui.app import STATIC_DIR

    config = client.get("/api/config").json()
    assert sorted(config["statuses"]) == sorted(s.value for s in StreamTableStatus)
    failed = sorted(s.value for s in StreamTableStatus if s.is_failed)
    assert sorted(config["failed_statuses"]) == failed == ["ERROR", "SUSPENDED"]
    static = "".join(STATIC_DIR.joinpath(f).read_text() for f in ("app.js", "index.html"))
    assert [s.value for s in StreamTableStatus if f'"{s.value}"' in static] == []


def test_airflow_loads_the_plugin_from_the_entry_point_without_building_the_app() -> None:
    """Registered through `airflow.plugins`; importing it (every Airflow process does) stays
    cheap: the FastAPI app is built on its first request only."""
    import subprocess
    import sys

    probe = (
        "import sys\n"
        "from airflow import plugins_manager\n"
        "if hasattr(plugins_manager, 'get_fastapi_plugins'):  # Airflow 3.2+\n"
        "    apps, _ = plugins_manager.get_fastapi_plugins()\n"
        "    views, _ = plugins_manager._get_ui_plugins()\n"
        "else:  # Airflow 3.1 fills module globals\n"
        "    plugins_manager.initialize_fastapi_plugins()\n"
        "    plugins_manager.initialize_ui_plugins()\n"
        "    apps, views = plugins_manager.fastapi_apps, plugins_manager.external_views\n"
        "print([a['url_prefix'] for a in apps])\n"
        "print([(v['url_route'], v['href']) for v in views])\n"
        "print('airflow_provider_pgtrickle.ui.app' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=False, timeout=120
    )
    assert done.returncode == 0, done.stderr
    prefixes, views, app_imported = done.stdout.strip().splitlines()[-3:]
    assert "'/pgtrickle'" in prefixes
    assert "('stream-tables', '/pgtrickle/')" in views
    assert app_imported == "False"


def test_connections_from_the_metadata_database_are_listed_by_type(client: TestClient) -> None:
    from airflow.models.connection import Connection
    from airflow.utils.session import create_session

    ids = ("ui_test_db_trickle", "ui_test_db_http")
    with create_session() as session:
        session.query(Connection).filter(Connection.conn_id.in_(ids)).delete()
        session.add(Connection(conn_id=ids[0], conn_type="pgtrickle", host="db.invalid"))
        session.add(Connection(conn_id=ids[1], conn_type="http", host="web.invalid"))
    try:
        listed = {
            c["connection_id"]: c["conn_type"]
            for c in client.get("/api/connections").json()["connections"]
        }
        assert listed.get(ids[0]) == "pgtrickle"
        assert ids[1] not in listed
    finally:
        with create_session() as session:
            session.query(Connection).filter(Connection.conn_id.in_(ids)).delete()
