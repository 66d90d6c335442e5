"""Error texts give advice that fits the error, and never point at text that is not there."""

from __future__ import annotations

import psycopg
import psycopg.errors
import pytest

from airflow_provider_pgtrickle.exceptions import (
    PgTrickleConnectionLostError,
    PgTrickleDatabaseError,
    PgTrickleUnsupportedQueryError,
    translate_database_error,
)
from airflow_provider_pgtrickle.hooks.pgtrickle import PgTrickleHook


def _translate(sqlstate: str, message: str, **kwargs: str) -> PgTrickleDatabaseError:
    error = psycopg.errors.lookup(sqlstate)(message)
    return translate_database_error(error, operation="refresh", stream_table="public.x", **kwargs)


@pytest.mark.parametrize(
    ("sqlstate", "message", "advice"),
    [
        ("XX000", "internal error", "fix the cause the server names and retry."),
        ("XX000", "", "the server gave no message (SQLSTATE XX000)"),
        ("42501", "permission denied for schema pgtrickle", "`GRANT USAGE ON SCHEMA pgtrickle TO"),
        ("42501", "permission denied for table orders", "grant the connection's role"),
        ("57014", "canceling statement due to statement timeout", "statement_timeout"),
        ("53300", "sorry, too many clients already", "retry later"),
        ("22003", "integer out of range", "out of range"),
    ],
)
def test_advice_fits_the_sqlstate(sqlstate: str, message: str, advice: str) -> None:
    text = str(_translate(sqlstate, message))
    assert "see the server message above" not in text
    assert advice in text
    assert text.endswith(".")


def test_no_full_advice_for_a_full_call() -> None:
    auto = str(_translate("0A000", "unsupported: window function"))
    assert "refresh_mode='FULL'" in auto
    full = str(_translate("0A000", "unsupported: window function", refresh_mode="FULL"))
    assert "refresh_mode='FULL'" not in full
    assert full.endswith("rewrite the query (see the pg_trickle SQL reference).")


@pytest.mark.parametrize(
    "error",
    [
        psycopg.errors.AdminShutdown("terminating connection due to administrator command"),
        psycopg.OperationalError("the connection is lost"),
        psycopg.OperationalError(
            "consuming input failed: server closed the connection unexpectedly\n"
            "\tThis probably means the server terminated abnormally\n"
        ),
    ],
)
def test_connection_errors_are_one_line_with_the_reason(error: psycopg.Error) -> None:
    translated = translate_database_error(error, operation="refresh", stream_table="public.x")
    assert isinstance(translated, PgTrickleConnectionLostError)
    text = str(translated)
    assert "\n" not in text
    assert text.startswith("Stream table `public.x`: refresh failed because the connection")
    assert str(error).splitlines()[0].strip() in text


@pytest.mark.usefixtures("orders")
def test_full_create_of_an_unsupported_query_is_not_told_to_use_full(hook: PgTrickleHook) -> None:
    with pytest.raises(PgTrickleUnsupportedQueryError) as caught:
        hook.create_stream_table("public.x", "SELECT 1 AS a", refresh_mode="FULL")
    assert "refresh_mode='FULL'" not in str(caught.value)
    with pytest.raises(PgTrickleUnsupportedQueryError) as caught:
        hook.create_stream_table("public.x", "SELECT 1 AS a", refresh_mode="DIFFERENTIAL")
    assert "refresh_mode='FULL'" in str(caught.value)
