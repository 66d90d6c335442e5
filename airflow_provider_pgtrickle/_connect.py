"""How an Airflow connection becomes libpq keyword arguments: one rule for hook and trigger.

`PgTrickleHook.get_conn` (sync) and the triggers (async, in the triggerer) both call
`connection_kwargs`, so every form the hook accepts also works in a deferred sensor and an
asset watcher: ``host``/``port``/``user``/``dbname`` given in the connection's extra
(they win over the fields, as in the Postgres provider), Unix socket directories
(``postgresql://u:p@/db?host=/run/postgresql`` puts ``host`` in the extra), ``sslmode``,
``sslrootcert``, ``options``, ``application_name`` and any other libpq keyword.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# Extra keys the Postgres provider consumes itself and never hands to libpq (its
# `PostgresHook.ignored_extra_options`), plus `cursor`, which the hook maps to a row factory.
IGNORED_EXTRA_OPTIONS = frozenset(
    {
        "iam",
        "redshift",
        "redshift-serverless",
        "cursor",
        "cluster-identifier",
        "workgroup-name",
        "aws_conn_id",
        "sqlalchemy_scheme",
        "sqlalchemy_query",
        "azure_conn_id",
    }
)


def connection_kwargs(
    *,
    host: str | None,
    port: int | None,
    login: str | None,
    password: str | None,
    schema: str | None,
    extra: Mapping[str, Any],
    database: str | None = None,
    options: str | None = None,
    ignored: frozenset[str] | set[str] = IGNORED_EXTRA_OPTIONS,
) -> dict[str, Any]:
    """libpq keyword arguments for a connection's fields and its (decoded) extra.

    The fields come first and the extra overrides them, key by key (the Postgres provider's
    order), so a ``host`` in the extra replaces an empty or different host field instead of
    being passed twice. Empty fields are left out: libpq then applies its own defaults
    (``PGHOST``, the default socket directory) exactly as ``psql`` would.
    """
    kwargs: dict[str, Any] = {}
    for key, value in (
        ("host", host),
        ("port", port),
        ("user", login),
        ("password", password),
        ("dbname", database or schema),
    ):
        if value not in (None, ""):
            kwargs[key] = value
    if options:
        kwargs["options"] = options
    for key, value in extra.items():
        if key not in ignored:
            kwargs[key] = value
    return kwargs


def from_connection(
    conn: Any, extra: Mapping[str, Any], *, database: str | None = None, options: str | None = None
) -> dict[str, Any]:
    """`connection_kwargs` for an Airflow `Connection` whose extra is already decoded."""
    return connection_kwargs(
        host=conn.host,
        port=conn.port,
        login=conn.login,
        password=conn.password,
        schema=conn.schema,
        extra=extra,
        database=database,
        options=options,
    )
