"""Airflow Assets for stream tables, in the URI form the Postgres provider and Cosmos use.

``postgres://host:port/database/schema/table``: a DAG scheduled on
``stream_table_asset("postgres_default", "analytics.orders")`` runs after a
`PgTrickleRefreshOperator` or `PgTrickleCreateStreamTableOperator` touched that table.

`stream_table_location` is the one place where a connection becomes the host, port and
database of those URIs (and of the OpenLineage datasets): the operators, `stream_table_asset`
and the lineage facets all go through it, so a DAG scheduled on an asset always matches the
events the operators emit for the same connection.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

# Re-exported: the location rule is public here; it lives in `_location` so that the hook can
# name its database without importing this module (whose watchers import the trigger, which
# imports the hook).
from airflow_provider_pgtrickle._location import StreamTableLocation, stream_table_location
from airflow_provider_pgtrickle._validation import qualify
from airflow_provider_pgtrickle.exceptions import PgTrickleValidationError

if TYPE_CHECKING:
    from airflow.providers.postgres.hooks.postgres import PostgresHook
    from airflow.sdk import Asset, AssetWatcher, Connection

__all__ = [
    "STREAM_TABLE_ASSET_ALIAS",
    "StreamTableLocation",
    "stream_table_asset",
    "stream_table_asset_uri",
    "stream_table_location",
    "stream_table_watcher",
]

STREAM_TABLE_ASSET_ALIAS = "pgtrickle_stream_tables"
"""Name of the `AssetAlias` the operators emit their stream-table asset events through."""


def stream_table_asset_uri(conn: str | Connection | PostgresHook, name: str) -> str:
    """``postgres://host:port/database/schema/table`` of stream table ``name`` on ``conn``.

    The URI `stream_table_asset` and the operators' asset events use (see
    `stream_table_location` for which database it names).
    """
    return stream_table_location(conn).asset_uri(name)


def stream_table_asset(
    conn: str | Connection | PostgresHook,
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

    uri = stream_table_location(conn).asset_uri(name)
    if watchers:
        _check_watchers(uri, watchers)
        return Asset(uri=uri, extra=extra or {}, watchers=list(watchers))
    return Asset(uri=uri, extra=extra or {})


def _check_watchers(uri: str, watchers: list[AssetWatcher]) -> None:
    """Refuse a stream-table watcher that watches another table or database than the asset.

    The triggerer puts a watcher's events on the asset it is attached to, whatever it watches:
    a mismatch would run the DAG for changes to a different table, without any error.
    """
    from airflow_provider_pgtrickle.triggers.pgtrickle import (
        PgTrickleStreamTableRefreshedTrigger,
    )

    for watcher in watchers:
        trigger = watcher.trigger
        if not isinstance(trigger, PgTrickleStreamTableRefreshedTrigger):
            continue
        watched = stream_table_location(trigger.postgres_conn_id).asset_uri(trigger.stream_table)
        if watched != uri:
            raise PgTrickleValidationError(
                f"Watcher `{watcher.name}` watches `{trigger.stream_table}` on connection "
                f"`{trigger.postgres_conn_id}` ({watched}), not the asset `{uri}`; build it with "
                "stream_table_watcher(conn, name) from the asset's own connection and name."
            )


def _watched_conn_id(conn: str | Connection | PostgresHook) -> str:
    """The connection id a watcher's trigger looks up in the triggerer."""
    from airflow.providers.postgres.hooks.postgres import PostgresHook

    if isinstance(conn, str):
        return conn
    if isinstance(conn, PostgresHook):
        conn_id = str(getattr(conn, conn.conn_name_attr))
        if conn.database:
            # The trigger is serialized by connection id and would watch the connection's
            # own database, not the hook's override: the asset and the watcher would differ.
            raise PgTrickleValidationError(
                f"Hook on connection `{conn_id}` overrides the database ({conn.database!r}); "
                "a watcher follows the connection itself. Set the database on the connection "
                "or pass its connection id."
            )
        return conn_id
    return str(conn.conn_id)


def stream_table_watcher(
    conn: str | Connection | PostgresHook,
    name: str,
    *,
    poll_interval: float = 60.0,
    watcher_name: str | None = None,
) -> AssetWatcher:
    """An `AssetWatcher` that emits an asset event each time pg_trickle refreshes ``name``
    with new data (see `PgTrickleStreamTableRefreshedTrigger`; docs/event-driven.md).

    ``conn`` takes the same forms as `stream_table_asset` (id, `Connection` or hook), so
    ``stream_table_asset(conn, name, watchers=[stream_table_watcher(conn, name)])`` watches
    the database the asset names. Every watcher and deferred health sensor on one connection
    in a triggerer shares one listener connection; ``poll_interval`` is only the fallback
    when no notification comes.
    """
    from airflow.sdk import AssetWatcher

    from airflow_provider_pgtrickle.triggers.pgtrickle import (
        PgTrickleStreamTableRefreshedTrigger,
    )

    qualified = qualify(name)
    trigger = PgTrickleStreamTableRefreshedTrigger(
        postgres_conn_id=_watched_conn_id(conn), stream_table=qualified, poll_interval=poll_interval
    )
    return AssetWatcher(name=watcher_name or f"pgtrickle_{qualified}", trigger=trigger)
