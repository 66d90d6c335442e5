"""`python -m airflow_provider_pgtrickle.cosmos` prints the dbt package path (for shells)."""

from __future__ import annotations

from airflow_provider_pgtrickle.cosmos.package import dbt_package_path

print(dbt_package_path())
