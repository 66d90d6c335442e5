"""The Airflow connection -> Cosmos ProfileConfig helper keeps the password out of files."""

from __future__ import annotations

import pytest
import yaml

from airflow_provider_pgtrickle.cosmos import pgtrickle_profile_config

SECRET = "s3cr3t-Pa55"


@pytest.fixture
def conn_with_password(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv(
        "AIRFLOW_CONN_PGT_PROFILE_TEST",
        f"postgres://analyst:{SECRET}@db.example.com:6543/warehouse",
    )
    return "pgt_profile_test"


@pytest.fixture
def conn_without_password(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("AIRFLOW_CONN_PGT_TRUST_TEST", "postgres://postgres@127.0.0.1:5432/shop")
    return "pgt_trust_test"


def _profile(config: object) -> dict[str, object]:
    mapping = config.profile_mapping  # type: ignore[attr-defined]
    text = mapping.get_profile_file_contents(
        profile_name=config.profile_name,  # type: ignore[attr-defined]
        target_name=config.target_name,  # type: ignore[attr-defined]
    )
    assert SECRET not in text
    loaded = yaml.safe_load(text)
    return dict(loaded[config.profile_name]["outputs"][config.target_name])  # type: ignore[attr-defined]


def test_profile_maps_the_connection_and_reads_the_password_from_an_env_var(
    conn_with_password: str,
) -> None:
    config = pgtrickle_profile_config(conn_with_password, schema="analytics", threads=3)

    output = _profile(config)
    assert output["type"] == "postgres"
    assert output["host"] == "db.example.com"
    assert output["port"] == 6543
    assert output["user"] == "analyst"
    assert output["dbname"] == "warehouse"
    assert output["schema"] == "analytics"
    assert output["threads"] == 3
    env_vars = config.profile_mapping.env_vars  # type: ignore[union-attr]
    (variable,) = env_vars
    assert output["password"] == f"{{{{ env_var('{variable}') }}}}"
    assert env_vars[variable] == SECRET


def test_passwordless_connections_are_accepted(conn_without_password: str) -> None:
    config = pgtrickle_profile_config(conn_without_password)

    output = _profile(config)
    assert output["host"] == "127.0.0.1"
    assert output["schema"] == "public"
    assert config.profile_mapping.can_claim_connection()  # type: ignore[union-attr]
    assert set(config.profile_mapping.env_vars.values()) == {""}  # type: ignore[union-attr]


def test_extra_profile_args_pass_through(conn_with_password: str) -> None:
    config = pgtrickle_profile_config(
        conn_with_password, profile_args={"sslmode": "require"}, target_name="prod"
    )

    assert config.target_name == "prod"
    assert _profile(config)["sslmode"] == "require"


def test_building_the_profile_config_does_not_look_up_the_connection() -> None:
    # DAG files build it at parse time: the connection may not even exist there.
    config = pgtrickle_profile_config("no_such_connection_anywhere")

    assert config.profile_mapping.conn_id == "no_such_connection_anywhere"  # type: ignore[union-attr]
    assert config.profile_mapping.mock_profile["password"]  # type: ignore[union-attr]
