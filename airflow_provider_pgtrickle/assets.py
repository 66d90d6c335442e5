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

import os
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from airflow_provider_pgtrickle._validation import qualify, split_name
from airflow_provider_pgtrickle.exceptions import PgTrickleValidationError

if TYPE_CHECKING:
    from airflow.providers.postgres.hooks.postgres import PostgresHook
    from airflow.sdk import Asset, AssetWatcher, Connection

STREAM_TABLE_ASSET_ALIAS = "pgtrickle_stream_tables"
"""Name of the `AssetAlias` the operators emit their stream-table asset events through."""

_DEFAULT_PORT = 5432


@dataclass(frozen=True)
class StreamTableLocation:
    """The server and database a connection's stream tables live in, as assets name them."""

    host: str
    port: int
    database: str

    @property
    def namespace(self) -> str:
        """``postgres://host:port``: the OpenLineage namespace (the Postgres provider's)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"postgres://{host}:{self.port}"

    def asset_uri(self, name: str) -> str:
        """``postgres://host:port/database/schema/table`` for stream table ``name``."""
        schema, table = split_name(name)
        # A database name may hold any character; quoted, it stays one path segment.
        return f"{self.namespace}/{quote(self.database, safe='')}/{schema}/{table}"

    def dataset_name(self, qualified: str) -> str:
        """``database.schema.table``: the OpenLineage dataset name of a relation.

        ``qualified`` is ``schema.table`` as pg_trickle's catalog spells it. It is not checked
        against the stream-table name rule: lineage inputs are any source relation.
        """
        return f"{self.database}.{qualified}"


def _first(value: object) -> str:
    # libpq accepts comma-separated host and port lists and tries them in order; the first
    # entry is the server the work normally happens on.
    return str(value).split(",", 1)[0].strip()


def _location_from_libpq(
    kwargs: Mapping[str, Any], *, conn_id: str, environ: Mapping[str, str]
) -> StreamTableLocation:
    """What libpq connects to for these keyword arguments, without connecting.

    Left-out keywords take libpq's defaults: ``PGHOST``/``PGPORT``/``PGUSER``/``PGDATABASE``
    from the environment, then the local socket, port 5432, the operating-system user, and
    (documented libpq behaviour) a database named like the user.
    """
    host = _first(kwargs.get("host") or kwargs.get("hostaddr") or environ.get("PGHOST") or "")
    # A Unix-socket directory (or an abstract socket) is no URI host, and Airflow rejects an
    # asset without one after the work is committed; the socket is always on this machine.
    if not host or host.startswith(("/", "@")):
        host = "localhost"
    port_text = _first(kwargs.get("port") or environ.get("PGPORT") or _DEFAULT_PORT)
    database = _first(kwargs.get("dbname") or environ.get("PGDATABASE") or "")
    if not database:
        user = kwargs.get("user") or environ.get("PGUSER")
        if not user:
            import getpass

            try:
                user = getpass.getuser()
            except (OSError, KeyError) as error:  # no user name for this process's uid
                raise PgTrickleValidationError(
                    f"Connection `{conn_id}` names neither a database nor a login, and this "
                    "process has no user name for PostgreSQL's default; set the database "
                    "(the connection's schema field) or the login."
                ) from error
        database = str(user)
    try:
        port = int(port_text)
    except ValueError:
        raise PgTrickleValidationError(
            f"Connection `{conn_id}` has port {port_text!r}, which is not a number; set a "
            "port between 1 and 65535."
        ) from None
    return StreamTableLocation(host=host, port=port, database=database)


def stream_table_location(conn: str | Connection | PostgresHook) -> StreamTableLocation:
    """Host, port and database of the stream tables on ``conn`` (id, `Connection` or hook).

    The database is the one the provider's hook actually connects to: the hook's
    ``database``, else the connection's schema field, with a ``dbname`` in the connection's
    extra taking precedence (the Postgres provider's order). A connection without any
    database makes libpq connect to ``PGDATABASE`` or else the database named like the login
    user, so that is the database named here. Nothing connects: this works at DAG parse time.
    Environment defaults (``PGDATABASE``, ``PGUSER``, ``PGHOST``, ``PGPORT``) are read in
    the calling process, so they must be the same where DAGs are parsed and where tasks run;
    naming the database on the connection avoids depending on them.
    """
    from airflow.providers.postgres.hooks.postgres import PostgresHook

    from airflow_provider_pgtrickle import _connect

    database: str | None = None
    if isinstance(conn, PostgresHook):
        database = conn.database
        connection: Any = conn.connection
    elif isinstance(conn, str):
        from airflow.sdk import BaseHook

        connection = BaseHook.get_connection(conn)
    else:
        connection = conn
    kwargs = _connect.from_connection(connection, connection.extra_dejson, database=database)
    conn_id = str(getattr(connection, "conn_id", None) or "")
    return _location_from_libpq(kwargs, conn_id=conn_id, environ=os.environ)


def stream_table_asset_uri(
    conn: str | Connection | PostgresHook | None = None,
    name: str | None = None,
    *,
    host: str | None = None,
    port: int | None = None,
    database: str | None = None,
) -> str:
    """``postgres://host:port/database/schema/table`` of stream table ``name`` on ``conn``.

    The URI `stream_table_asset` and the operators' asset events use (see
    `stream_table_location` for which database it names).

    Deprecated: ``stream_table_asset_uri(host=..., port=..., database=..., name=...)`` (warns;
    pass the connection instead, so the URI cannot drift from the one the operators emit).
    """
    if name is None:
        raise PgTrickleValidationError(
            "Stream table name None is not a non-empty string; pass "
            "stream_table_asset_uri(conn, 'schema.table')."
        )
    if conn is not None:
        return stream_table_location(conn).asset_uri(name)
    warnings.warn(
        "stream_table_asset_uri(host=..., port=..., database=..., name=...) is deprecated; "
        "pass the connection instead: stream_table_asset_uri(conn, name).",
        DeprecationWarning,
        stacklevel=2,
    )
    location = _location_from_libpq(
        {"host": host, "port": port, "dbname": database}, conn_id="", environ={}
    )
    return location.asset_uri(name)


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
    conn: str | Connection | PostgresHook | None = None,
    name: str | None = None,
    *,
    poll_interval: float = 60.0,
    watcher_name: str | None = None,
    conn_id: str | None = None,
) -> AssetWatcher:
    """An `AssetWatcher` that emits an asset event each time pg_trickle refreshes ``name``
    with new data (see `PgTrickleStreamTableRefreshedTrigger`; docs/event-driven.md).

    ``conn`` takes the same forms as `stream_table_asset` (id, `Connection` or hook), so
    ``stream_table_asset(conn, name, watchers=[stream_table_watcher(conn, name)])`` watches
    the database the asset names. Every watcher and deferred health sensor on one connection
    in a triggerer shares one listener connection; ``poll_interval`` is only the fallback
    when no notification comes.

    Deprecated: the keyword ``conn_id=`` (warns; pass ``conn``).
    """
    from airflow.sdk import AssetWatcher

    from airflow_provider_pgtrickle.triggers.pgtrickle import (
        PgTrickleStreamTableRefreshedTrigger,
    )

    if conn_id is not None:
        warnings.warn(
            "stream_table_watcher(conn_id=...) is deprecated; pass the connection as `conn` "
            "(an id, Connection or hook): stream_table_watcher(conn, name).",
            DeprecationWarning,
            stacklevel=2,
        )
        conn = conn if conn is not None else conn_id
    if conn is None:
        raise PgTrickleValidationError(
            f"Watcher for stream table `{name}` has no connection; pass "
            "stream_table_watcher(conn, 'schema.table')."
        )
    qualified = qualify(name)
    trigger = PgTrickleStreamTableRefreshedTrigger(
        postgres_conn_id=_watched_conn_id(conn), stream_table=qualified, poll_interval=poll_interval
    )
    return AssetWatcher(name=watcher_name or f"pgtrickle_{qualified}", trigger=trigger)
