"""Helpers for running the `dbt_pg_trickle` package through Astronomer Cosmos.

- `dbt_package_path()` / `dbt_package_env()`: where the dbt package lives, for
  `packages: [{local: "{{ env_var('DBT_PG_TRICKLE_PATH') }}"}]`.
- `pgtrickle_profile_config()`: an Airflow Postgres connection as a Cosmos `ProfileConfig`.
- `add_stream_table_sensors()`: health sensors after the stream-table tasks of a rendered
  `DbtDag` / `DbtTaskGroup`, gating what runs downstream.

Importing this package does not import Cosmos or dbt; the functions that need Cosmos import it
when called and name the extra to install when it is missing.
"""

from __future__ import annotations

from airflow_provider_pgtrickle.cosmos.health import (
    SchemaNaming,
    SensorLayout,
    StreamTableNode,
    StreamTableSensors,
    add_stream_table_sensors,
    find_stream_tables,
)
from airflow_provider_pgtrickle.cosmos.package import (
    DBT_PACKAGE_ENV_VAR,
    DBT_PACKAGE_NAME,
    dbt_package_env,
    dbt_package_path,
)
from airflow_provider_pgtrickle.cosmos.profiles import pgtrickle_profile_config

__all__ = [
    "DBT_PACKAGE_ENV_VAR",
    "DBT_PACKAGE_NAME",
    "SchemaNaming",
    "SensorLayout",
    "StreamTableNode",
    "StreamTableSensors",
    "add_stream_table_sensors",
    "dbt_package_env",
    "dbt_package_path",
    "find_stream_tables",
    "pgtrickle_profile_config",
]
