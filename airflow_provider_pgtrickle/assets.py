"""Airflow Assets for stream tables, in the URI form the Postgres provider and Cosmos use.

``postgres://host:port/database/schema/table``: a DAG scheduled on
``stream_table_asset("postgres_default", "analytics.orders")`` runs after a
`PgTrickleRefreshOperator` or `PgTrickleCreateStreamTableOperator` touched that table.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_provider_pgtrickle._validation import split_name

if TYPE_CHECKING:
    from airflow.sdk import Asset, AssetWatcher, Connection

    from airflow_provider_pgtrickle.hooks.pgtrickle import PgTrickleHook

STREAM_TABLE_ASSET_ALIAS = "pgtrickle_stream_tables"
"""Name of the `AssetAlias` the operators emit their stream-table asset events through."""

_DEFAULT_PORT = 5432


def stream_table_asset_uri(*, host: str, port: int | None, database: str, name: str) -> str:
    """``postgres://host:port/database/schema/table`` for a (validated) stream table name."""
    schema, table = split_name(name)
    # A Unix-socket directory is no URI host (Airflow rejects the asset after the work is
    # committed); the socket is always on this machine.
    if not host or host.startswith("/"):
        host = "localhost"
    return f"postgres://{host}:{port or _DEFAULT_PORT}/{database}/{schema}/{table}"


def _connection_parts(conn: str | Connection | PgTrickleHook | Any) -> tuple[str, int | None, str]:
    from airflow.providers.postgres.hooks.postgres import PostgresHook

    if isinstance(conn, str):
        from airflow.sdk import BaseHook

        conn = BaseHook.get_connection(conn)
    database: str | None = None
    if isinstance(conn, PostgresHook):
        database = conn.database
        conn = conn.connection
    host = conn.host or "localhost"
    database = database or conn.schema or "postgres"
    return host, conn.port, database


def stream_table_asset(
    conn: str | Connection | PgTrickleHook,
    name: str,
    *,
    extra: dict[str, Any] | None = None,
    watchers: list[AssetWatcher] | None = None,
) -> Asset:
    """The Asset of stream table ``name`` on a connection (id, `Connection` or hook).

    A connection id is resolved through Airflow's connection lookup (environment variables,
    secrets backend, metadata database); no password ever appears in the URI. ``watchers``
    (e.g. from `stream_table_watcher`) make DAGs scheduled on the asset event-driven.
    """
    from airflow.sdk import Asset

    host, port, database = _connection_parts(conn)
    uri = stream_table_asset_uri(host=host, port=port, database=database, name=name)
    if watchers:
        return Asset(uri=uri, extra=extra or {}, watchers=list(watchers))
    return Asset(uri=uri, extra=extra or {})


def stream_table_watcher(
    conn_id: str, name: str, *, poll_interval: float = 60.0, watcher_name: str | None = None
) -> AssetWatcher:
    """An `AssetWatcher` that emits an asset event each time pg_trickle refreshes ``name``
    with new data (see `PgTrickleStreamTableRefreshedTrigger`; docs/event-driven.md).

    Every watcher and deferred health sensor on ``conn_id`` in a triggerer shares one
    listener connection; ``poll_interval`` is only the fallback when no notification comes.
    """
    from airflow.sdk import AssetWatcher

    from airflow_provider_pgtrickle._validation import qualify
    from airflow_provider_pgtrickle.triggers.pgtrickle import (
        PgTrickleStreamTableRefreshedTrigger,
    )

    qualified = qualify(name)
    trigger = PgTrickleStreamTableRefreshedTrigger(
        postgres_conn_id=conn_id, stream_table=qualified, poll_interval=poll_interval
    )
    return AssetWatcher(name=watcher_name or f"pgtrickle_{qualified}", trigger=trigger)
