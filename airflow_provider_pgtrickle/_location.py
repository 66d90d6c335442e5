"""Where a connection's stream tables live: host, port and database, as asset URIs and
OpenLineage datasets name them (`stream_table_location`, public through `assets`).

One rule for the operators' asset events, `stream_table_asset`, the lineage facets and the
database the hook names in its error messages. It sits apart from `assets` so the hook can
use it without importing `assets`, whose watchers import the trigger, which imports the hook.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from airflow_provider_pgtrickle._validation import split_name
from airflow_provider_pgtrickle.exceptions import PgTrickleValidationError

if TYPE_CHECKING:
    from airflow.providers.postgres.hooks.postgres import PostgresHook
    from airflow.sdk import Connection

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
