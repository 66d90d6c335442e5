"""Airflow Assets for stream tables, in the URI form the Postgres provider and Cosmos use.

``postgres://host:port/database/schema/table``: a DAG scheduled on
``stream_table_asset("postgres_default", "analytics.orders")`` runs after a
`PgTrickleRefreshOperator` or `PgTrickleCreateStreamTableOperator` touched that table.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_provider_pgtrickle._validation import split_name

if TYPE_CHECKING:
    from airflow.sdk import Asset, Connection

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
    conn: str | Connection | PgTrickleHook, name: str, *, extra: dict[str, Any] | None = None
) -> Asset:
    """The Asset of stream table ``name`` on a connection (id, `Connection` or hook).

    A connection id is resolved through Airflow's connection lookup (environment variables,
    secrets backend, metadata database); no password ever appears in the URI.
    """
    from airflow.sdk import Asset

    host, port, database = _connection_parts(conn)
    uri = stream_table_asset_uri(host=host, port=port, database=database, name=name)
    return Asset(uri=uri, extra=extra or {})
