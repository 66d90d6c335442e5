"""Which pg_trickle version the double plays: one rule (`testing/versions.py`) read by the
test server, the fixtures and `serve`."""

from __future__ import annotations

import pytest

from airflow_provider_pgtrickle.exceptions import PgTrickleTestServerError
from airflow_provider_pgtrickle.testing.__main__ import main
from airflow_provider_pgtrickle.testing.server import TestServer, start_double_server
from airflow_provider_pgtrickle.testing.versions import (
    DEFAULT_VERSION,
    VERSION_ENV,
    DoubleVersion,
    accepted_versions,
    resolve_version,
)


def test_default_and_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(VERSION_ENV, raising=False)
    assert resolve_version() is DEFAULT_VERSION
    monkeypatch.setenv(VERSION_ENV, " 0.108.3 ")
    assert resolve_version() is DoubleVersion.V0_108_3
    # An explicit value wins over the environment.
    assert resolve_version("0.67.0") is DoubleVersion.V0_67_0
    assert accepted_versions() == ("0.67.0", "0.108.3")


def test_unknown_version_is_refused_with_the_accepted_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(VERSION_ENV, "0.99")
    with pytest.raises(PgTrickleTestServerError) as info:
        resolve_version()
    message = str(info.value)
    assert "PGTRICKLE_TEST_VERSION '0.99'" in message
    assert "0.67.0, 0.108.3" in message


def test_serve_refuses_an_unknown_version_before_starting(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as info:
        main(["serve", "--version", "0.99"])
    assert info.value.code == 2
    assert "invalid choice: '0.99'" in capsys.readouterr().err


@pytest.mark.requires_double
def test_fixture_server_plays_the_selected_version(
    pgtrickle_server: TestServer, pgtrickle_version: str
) -> None:
    assert pgtrickle_server.double_version is resolve_version()
    assert pgtrickle_version == resolve_version().value


def test_start_double_server_plays_the_version_asked_for() -> None:
    # The version the session's server does not play, so both directions get exercised.
    other = (
        DoubleVersion.V0_67_0
        if resolve_version() is DoubleVersion.V0_108_3
        else DoubleVersion.V0_108_3
    )
    with start_double_server(log_statements=False, version=other.value) as server:
        db = server.create_database()
        with db.connect() as conn:
            found = conn.execute(
                "SELECT e.extversion, t.extversion, pgtrickle.version()"
                " FROM pg_extension e, pg_extension t"
                " WHERE e.extname = 'pg_trickle' AND t.extname = 'pg_trickle_test'"
            ).fetchone()
        # A plain CREATE EXTENSION in that cluster gets the same version.
        with server.admin_connect() as admin:
            admin.execute("CREATE DATABASE plain_install")
        with server.database("plain_install").connect() as conn:
            conn.execute("CREATE EXTENSION pg_trickle")
            plain = conn.execute(
                "SELECT e.extversion, a.default_version, strpos(a.comment, %s) > 0"
                " FROM pg_extension e JOIN pg_available_extensions a ON a.name = e.extname"
                " WHERE e.extname = 'pg_trickle'",
                [other.value],
            ).fetchone()
    assert found == (other.value, other.value, other.value)
    assert plain == (other.value, other.value, True)
