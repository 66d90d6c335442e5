"""Stream table assets use the Postgres provider's URI form, computed by one rule."""

from __future__ import annotations

import getpass

import pytest
from airflow.sdk import Asset, Connection

from airflow_provider_pgtrickle.assets import (
    StreamTableLocation,
    stream_table_asset,
    stream_table_asset_uri,
    stream_table_location,
    stream_table_watcher,
)
from airflow_provider_pgtrickle.exceptions import PgTrickleValidationError
from airflow_provider_pgtrickle.hooks.pgtrickle import PgTrickleHook

_LIBPQ_ENV = ("PGHOST", "PGHOSTADDR", "PGPORT", "PGUSER", "PGDATABASE")


@pytest.fixture(autouse=True)
def _no_libpq_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in _LIBPQ_ENV:
        monkeypatch.delenv(key, raising=False)


def test_uri_form(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE", "postgres://u@db/shop")
    assert stream_table_asset_uri("warehouse", "analytics.orders") == (
        "postgres://db:5432/shop/analytics/orders"
    )


def test_from_connection_id(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE", "postgres://u:secret@pg.example:6543/shop")
    asset = stream_table_asset("warehouse", "orders")
    assert isinstance(asset, Asset)
    assert asset.uri == "postgres://pg.example:6543/shop/public/orders"
    assert "secret" not in asset.uri
    hook_asset = stream_table_asset(PgTrickleHook("warehouse"), "analytics.totals")
    assert hook_asset.uri == "postgres://pg.example:6543/shop/analytics/totals"


def test_the_database_is_the_one_the_hook_connects_to(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE", "postgres://u@pg.example/shop")
    # The hook's `database` overrides the connection's schema field, as in `get_conn`.
    hook = PgTrickleHook("warehouse", database="other")
    assert stream_table_asset_uri(hook, "a.t") == "postgres://pg.example:5432/other/a/t"
    # A `dbname` in the extra is handed to libpq last and wins (the Postgres provider's order).
    monkeypatch.setenv("AIRFLOW_CONN_EXTRA_DB", "postgres://u@pg.example/shop?dbname=extra_db")
    assert stream_table_location("extra_db").database == "extra_db"


def test_without_a_database_libpq_uses_the_login_name(monkeypatch: pytest.MonkeyPatch) -> None:
    # No database anywhere: libpq connects to the database named like the user, so the URI
    # names that one (the old code said `postgres` here and the operators said ``).
    monkeypatch.setenv("AIRFLOW_CONN_NO_DB", "postgres://analyst@pg.example:6543")
    assert stream_table_asset_uri("no_db", "a.t") == "postgres://pg.example:6543/analyst/a/t"
    hook = PgTrickleHook("no_db")
    assert stream_table_location(hook) == StreamTableLocation("pg.example", 6543, "analyst")
    assert hook._database_name() == "analyst"  # what the hook's error messages name
    monkeypatch.setenv("PGDATABASE", "from_env")
    assert stream_table_location("no_db").database == "from_env"


def test_without_database_or_login_libpq_uses_the_environment_then_os_user(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    conn = Connection(conn_id="bare", conn_type="postgres", host="pg.example")
    assert stream_table_location(conn).database == getpass.getuser()
    monkeypatch.setenv("PGUSER", "env_user")
    assert stream_table_location(conn).database == "env_user"


def test_socket_and_env_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    # A Unix-socket directory is no URI host (Airflow rejects the asset after the work is
    # committed); the socket is always on this machine.
    conn = Connection(conn_id="sock", conn_type="postgres", host="/run/postgresql", schema="shop")
    assert stream_table_asset_uri(conn, "a.t") == "postgres://localhost:5432/shop/a/t"
    assert Asset(uri=stream_table_asset_uri(conn, "a.t")).uri.startswith("postgres://localhost")
    monkeypatch.setenv("PGHOST", "env.example")
    monkeypatch.setenv("PGPORT", "6000")
    bare = Connection(conn_id="bare", conn_type="postgres", schema="shop")
    assert stream_table_asset_uri(bare, "a.t") == "postgres://env.example:6000/shop/a/t"


def test_lineage_names_share_the_location() -> None:
    location = StreamTableLocation("db", 5432, "shop")
    assert location.namespace == "postgres://db:5432"
    assert location.dataset_name("public.orders") == "shop.public.orders"
    # Lineage inputs are any source relation, also names no stream table may have.
    assert location.dataset_name("Raw.Orders-2024") == "shop.Raw.Orders-2024"
    assert location.asset_uri("orders") == "postgres://db:5432/shop/public/orders"


def test_bad_name() -> None:
    conn = Connection(conn_id="c", conn_type="postgres", host="db", schema="d")
    with pytest.raises(PgTrickleValidationError, match=r"Bad\.Name"):
        stream_table_asset_uri(conn, "Bad.Name")


def test_bad_port_is_a_project_error() -> None:
    conn = Connection(
        conn_id="c", conn_type="postgres", host="db", schema="d", extra='{"port": "x"}'
    )
    with pytest.raises(PgTrickleValidationError, match=r"Connection `c` has port 'x'"):
        stream_table_location(conn)


def test_watcher_takes_the_same_connection_forms(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE", "postgres://u@pg.example/shop")
    by_id = stream_table_watcher("warehouse", "a.t").trigger.serialize()
    assert by_id == stream_table_watcher(PgTrickleHook("warehouse"), "a.t").trigger.serialize()
    conn = Connection(conn_id="warehouse", conn_type="postgres")
    assert by_id == stream_table_watcher(conn, "a.t").trigger.serialize()
    # The trigger connects by connection id: a hook's database override cannot be followed.
    with pytest.raises(PgTrickleValidationError, match="overrides the database"):
        stream_table_watcher(PgTrickleHook("warehouse", database="other"), "a.t")


def test_a_watcher_must_watch_the_asset_it_is_attached_to(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE", "postgres://u@pg.example/shop")
    monkeypatch.setenv("AIRFLOW_CONN_OTHER", "postgres://u@pg.example/other")
    watcher = stream_table_watcher("warehouse", "a.t")
    asset = stream_table_asset(PgTrickleHook("warehouse"), "a.t", watchers=[watcher])
    assert asset.uri == "postgres://pg.example:5432/shop/a/t"
    # Events for `a.t` in database `other`, or for another table, must not run this asset's DAGs.
    for wrong in (stream_table_watcher("other", "a.t"), stream_table_watcher("warehouse", "a.u")):
        with pytest.raises(PgTrickleValidationError, match=r"not the asset `postgres://pg\.ex"):
            stream_table_asset("warehouse", "a.t", watchers=[wrong])
