"""Translation of server errors into the provider's exception hierarchy (pure Python)."""

from __future__ import annotations

import psycopg
import psycopg.errors
import pytest

from airflow_provider_pgtrickle.exceptions import (
    PgTrickleDatabaseError,
    PgTrickleError,
    PgTrickleInvalidArgumentError,
    StreamTableAlreadyExistsError,
    StreamTableDependencyError,
    StreamTableNotFoundError,
    StreamTableStateError,
    translate_database_error,
)


def server_error(sqlstate: str, message: str) -> psycopg.Error:
    """The psycopg error class the server's SQLSTATE maps to."""
    return psycopg.errors.lookup(sqlstate)(message)


@pytest.mark.parametrize(
    ("sqlstate", "message", "cls"),
    [
        ("42P01", "stream table not found: public.x", StreamTableNotFoundError),
        ("42P07", "stream table already exists: public.x", StreamTableAlreadyExistsError),
        ("22023", "invalid argument: unknown status: PAUSED", PgTrickleInvalidArgumentError),
        (
            "22023",
            "invalid argument: stream table public.a has dependent stream tables: public.b.",
            StreamTableDependencyError,
        ),
        (
            "22023",
            "invalid argument: stream table public.x is suspended ; use "
            "pgtrickle.resume_stream_table('x') first",
            StreamTableStateError,
        ),
        ("XX000", "internal error", PgTrickleDatabaseError),
        # PostgreSQL's own 42P01 / 42P07 (a source table, a plain table) are not about the
        # stream table.
        ("42P01", 'relation "public.nope" does not exist', PgTrickleDatabaseError),
        ("42P07", 'relation "x" already exists', PgTrickleDatabaseError),
    ],
)
def test_sqlstates_map_to_classes(sqlstate: str, message: str, cls: type) -> None:
    error = translate_database_error(
        server_error(sqlstate, message), operation="refresh", stream_table="public.x"
    )
    assert type(error) is cls
    assert isinstance(error, PgTrickleError)
    assert error.sqlstate == sqlstate
    assert message in str(error)
    assert str(error).startswith("Stream table `public.x`: refresh failed")
    assert str(error).endswith(".")


def test_resuming_an_active_table_does_not_advise_resuming() -> None:
    message = (
        "invalid argument: stream table public.x is not suspended or in error state "
        "(current status: ACTIVE)"
    )
    error = translate_database_error(
        server_error("22023", message), operation="resume", stream_table="public.x"
    )
    assert type(error) is StreamTableStateError
    assert "already ACTIVE" in str(error)
    assert "PgTrickleResumeOperator" not in str(error)
