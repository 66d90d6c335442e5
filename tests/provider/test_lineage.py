"""OpenLineage datasets for stream tables (only when the OpenLineage client is importable)."""

from __future__ import annotations

import pytest

from airflow_provider_pgtrickle.assets import StreamTableLocation
from airflow_provider_pgtrickle.lineage import lineage_datasets, openlineage_available
from airflow_provider_pgtrickle.types import DependencyEdge

pytest.importorskip("openlineage.client")


def test_inputs_from_catalog_and_output_the_stream_table() -> None:
    edges = [
        DependencyEdge("public.totals", "public.orders", "TABLE", "TRIGGER"),
        DependencyEdge("public.totals", "public.customers", "TABLE", "TRIGGER"),
        DependencyEdge("public.other", "public.x", "TABLE", "TRIGGER"),
    ]
    inputs, outputs = lineage_datasets(
        location=StreamTableLocation("db", 5432, "shop"),
        stream_tables=["public.totals"],
        edges=edges,
    )
    assert [(d.namespace, d.name) for d in inputs] == [
        ("postgres://db:5432", "shop.public.customers"),
        ("postgres://db:5432", "shop.public.orders"),
    ]
    assert [d.name for d in outputs] == ["shop.public.totals"]


def test_availability_probe_does_not_raise() -> None:
    assert openlineage_available() in (True, False)


def test_operator_facets_name_the_database_the_asset_names(monkeypatch: pytest.MonkeyPatch) -> None:
    from airflow_provider_pgtrickle.assets import stream_table_asset
    from airflow_provider_pgtrickle.operators.pgtrickle import PgTrickleRefreshOperator

    for key in ("PGDATABASE", "PGUSER", "PGHOST", "PGPORT"):
        monkeypatch.delenv(key, raising=False)
    # No database on the connection: libpq connects to the one named like the login.
    monkeypatch.setenv("AIRFLOW_CONN_NO_DB", "postgres://analyst@pg.example:6543")
    op = PgTrickleRefreshOperator(task_id="r", stream_tables="a.t", postgres_conn_id="no_db")
    op._touched = ["a.t"]  # what `execute` records for the tables it refreshed
    lineage = op.get_openlineage_facets_on_complete(None)
    assert [(d.namespace, d.name) for d in lineage.outputs] == [
        ("postgres://pg.example:6543", "analyst.a.t")
    ]
    assert stream_table_asset("no_db", "a.t").uri == "postgres://pg.example:6543/analyst/a/t"
