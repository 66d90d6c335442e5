"""OpenLineage datasets for stream tables (only when the OpenLineage client is importable)."""

from __future__ import annotations

import pytest

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
        namespace="postgres://db:5432",
        database="shop",
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
