"""OpenLineage facets for stream tables, used only when the OpenLineage provider is installed.

Inputs come from the pg_trickle dependency catalog, the output is the stream table itself.
Dataset naming follows the Postgres provider: namespace ``postgres://host:port``, name
``database.schema.table``, both from `StreamTableLocation`, the rule the asset URIs use too.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from typing import Any

from airflow_provider_pgtrickle.assets import StreamTableLocation
from airflow_provider_pgtrickle.types import DependencyEdge


def openlineage_available() -> bool:
    """Whether `apache-airflow-providers-openlineage` is importable (no import done)."""
    try:
        return importlib.util.find_spec("airflow.providers.openlineage") is not None
    except ModuleNotFoundError:
        return False


def lineage_datasets(
    *,
    location: StreamTableLocation,
    stream_tables: Sequence[str],
    edges: Sequence[DependencyEdge],
) -> tuple[list[Any], list[Any]]:
    """(inputs, outputs) OpenLineage datasets for the stream tables touched by a task."""
    from airflow.providers.common.compat.openlineage.facet import Dataset

    def dataset(name: str) -> Any:
        return Dataset(namespace=location.namespace, name=location.dataset_name(name))

    touched = set(stream_tables)
    sources = sorted({e.source for e in edges if e.stream_table in touched})
    return [dataset(source) for source in sources], [dataset(name) for name in sorted(touched)]


def operator_lineage(
    *,
    location: StreamTableLocation,
    stream_tables: Sequence[str],
    edges: Sequence[DependencyEdge],
) -> Any:
    """An `OperatorLineage` for `get_openlineage_facets_on_complete`."""
    from airflow.providers.openlineage.extractors import OperatorLineage

    inputs, outputs = lineage_datasets(location=location, stream_tables=stream_tables, edges=edges)
    return OperatorLineage(inputs=inputs, outputs=outputs)
