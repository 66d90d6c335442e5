"""Stream table assets use the Postgres provider's URI form."""

from __future__ import annotations

import pytest
from airflow.sdk import Asset

from airflow_provider_pgtrickle.assets import stream_table_asset, stream_table_asset_uri
from airflow_provider_pgtrickle.exceptions import PgTrickleValidationError
from airflow_provider_pgtrickle.hooks.pgtrickle import PgTrickleHook


def test_uri_form() -> None:
    uri = stream_table_asset_uri(host="db", port=None, database="shop", name="analytics.orders")
    assert uri == "postgres://db:5432/shop/analytics/orders"


def test_from_connection_id(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE", "postgres://u:secret@pg.example:6543/shop")
    asset = stream_table_asset("warehouse", "orders")
    assert isinstance(asset, Asset)
    assert asset.uri == "postgres://pg.example:6543/shop/public/orders"
    assert "secret" not in asset.uri
    hook_asset = stream_table_asset(PgTrickleHook("warehouse"), "analytics.totals")
    assert hook_asset.uri == "postgres://pg.example:6543/shop/analytics/totals"


def test_bad_name() -> None:
    with pytest.raises(PgTrickleValidationError):
        stream_table_asset_uri(host="db", port=1, database="d", name="Bad.Name")


def test_unix_socket_host_is_a_valid_asset() -> None:
    # Airflow refuses an asset URI without a host; a socket directory must not end a task
    # whose refresh was already committed.
    uri = stream_table_asset_uri(
        host="/var/run/postgresql", port=5432, database="shop", name="analytics.orders"
    )
    assert Asset(uri=uri).uri == "postgres://localhost:5432/shop/analytics/orders"
