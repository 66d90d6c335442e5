"""Apache Airflow provider and dbt package for pg_trickle stream tables."""

from __future__ import annotations

# The one version number: pyproject.toml (hatch) and get_provider_info read it; the dbt
# package's dbt_project.yml repeats it (YAML cannot read it) and a test checks they agree.
__version__ = "0.1.0"

__all__ = ["__version__"]
