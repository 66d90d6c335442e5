"""Provider metadata read by Airflow's ProvidersManager through the entry point."""

from __future__ import annotations

from typing import Any

from airflow_provider_pgtrickle import __version__

DOCS_URL = "https://trickle-labs.github.io/airflow-provider-pgtrickle/"


def get_provider_info() -> dict[str, Any]:
    # The hook works with the standard `postgres` connection (the one Cosmos profiles use too);
    # the `pgtrickle` type only gives the UI a form labelled for pg_trickle. Its form is declared
    # here rather than through hook methods, which Airflow 3.2+ deprecates. Options such as
    # sslmode go into Extra, which the Postgres hook passes to libpq.
    return {
        "package-name": "airflow-provider-pgtrickle",
        "name": "pg_trickle",
        "description": "Create, refresh and monitor pg_trickle stream tables on PostgreSQL 18.",
        "documentation-url": DOCS_URL,
        "versions": [__version__],
        "integrations": [
            {
                "integration-name": "pg_trickle",
                "external-doc-url": "https://github.com/grove/pg-trickle",
                "how-to-guide": [
                    f"{DOCS_URL}airflow/operators/",
                    f"{DOCS_URL}airflow/sensor/",
                    f"{DOCS_URL}cosmos/",
                ],
                "tags": ["software"],
            }
        ],
        "connection-types": [
            {
                "connection-type": "pgtrickle",
                "hook-class-name": "airflow_provider_pgtrickle.hooks.pgtrickle.PgTrickleHook",
                "hook-name": "PostgreSQL with pg_trickle",
                "ui-field-behaviour": {
                    "hidden-fields": [],
                    "relabeling": {"schema": "Database"},
                    "placeholders": {
                        "host": "db.example.com",
                        "port": "5432",
                        "schema": "warehouse",
                        "login": "airflow",
                        "extra": '{"sslmode": "require"}',
                    },
                },
            }
        ],
        "hooks": [
            {
                "integration-name": "pg_trickle",
                "python-modules": ["airflow_provider_pgtrickle.hooks.pgtrickle"],
            }
        ],
        "operators": [
            {
                "integration-name": "pg_trickle",
                "python-modules": ["airflow_provider_pgtrickle.operators.pgtrickle"],
            }
        ],
        "sensors": [
            {
                "integration-name": "pg_trickle",
                "python-modules": ["airflow_provider_pgtrickle.sensors.pgtrickle"],
            }
        ],
        "triggers": [
            {
                "integration-name": "pg_trickle",
                "python-modules": ["airflow_provider_pgtrickle.triggers.pgtrickle"],
            }
        ],
    }
