"""Apache Airflow provider and dbt package for pg_trickle stream tables."""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
