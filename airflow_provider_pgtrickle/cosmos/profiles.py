"""An Airflow Postgres connection as a Cosmos `ProfileConfig`.

Cosmos's own `PostgresUserPasswordProfileMapping` already keeps the password out of the
profiles file (the file says `{{ env_var('COSMOS_CONN_POSTGRES_PASSWORD') }}` and Cosmos sets the
variable for each dbt invocation), but it refuses connections without a password, which rules
out trust, peer, certificate and `.pgpass` authentication. The mapping below keeps the
env-var indirection and accepts an empty password.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import TYPE_CHECKING, Any

from airflow_provider_pgtrickle.exceptions import PgTrickleError

if TYPE_CHECKING:
    from cosmos.config import ProfileConfig

COSMOS_EXTRA_HINT = "pip install 'airflow-provider-pgtrickle[cosmos]'"


def require_cosmos() -> None:
    """Fail with the install command when the `cosmos` extra is missing."""
    try:
        import cosmos  # noqa: F401
    except ImportError as exc:
        raise PgTrickleError(
            "The Cosmos helpers need `astronomer-cosmos` and `dbt-postgres`; "
            f"install them with `{COSMOS_EXTRA_HINT}`."
        ) from exc


@cache
def _mapping_class() -> type[Any]:
    # Built on first use so that importing this module never imports Cosmos.
    require_cosmos()
    from cosmos.profiles.postgres.user_pass import PostgresUserPasswordProfileMapping

    class PgTrickleProfileMapping(PostgresUserPasswordProfileMapping):  # type: ignore[misc]
        """Postgres user/password mapping that also accepts passwordless connections."""

        required_fields = ["host", "user", "dbname"]

        @property
        def mock_profile(self) -> dict[str, Any]:
            # dbt-postgres insists on a password key even when the server does not ask for one.
            return {"password": "mock_value", **super().mock_profile}

        @property
        def env_vars(self) -> dict[str, str]:
            password = self.get_dbt_value("password")
            return {self.get_env_var_name("password"): "" if password is None else str(password)}

    return PgTrickleProfileMapping


def pgtrickle_profile_config(
    conn_id: str = "postgres_default",
    *,
    schema: str = "public",
    profile_name: str = "pgtrickle",
    target_name: str = "airflow",
    threads: int | None = None,
    profile_args: Mapping[str, Any] | None = None,
) -> ProfileConfig:
    """Cosmos `ProfileConfig` for the Airflow Postgres connection `conn_id`.

    Host, port, user and database come from the connection (database = the connection's
    *schema* field, as in the Postgres provider). The password never reaches a file or a log:
    the generated profile reads it from an environment variable that Cosmos sets per task.
    Nothing is looked up at DAG parse time when the project is loaded from a manifest.

    :param conn_id: Airflow connection of type `postgres`.
    :param schema: dbt target schema (where models without a custom schema land).
    :param profile_name: profile name written into the generated profile.
    :param target_name: target name written into the generated profile.
    :param threads: dbt threads; dbt's default when None.
    :param profile_args: further dbt-postgres profile keys (`sslmode`, `keepalives_idle`, ...).
    """
    require_cosmos()
    from cosmos.config import ProfileConfig

    args: dict[str, Any] = {"schema": schema, **dict(profile_args or {})}
    if threads is not None:
        args["threads"] = threads
    return ProfileConfig(
        profile_name=profile_name,
        target_name=target_name,
        profile_mapping=_mapping_class()(conn_id=conn_id, profile_args=args),
    )
