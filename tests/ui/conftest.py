"""Fixtures for the UI tests: the page's FastAPI app with Airflow's auth manager."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

JWT_SECRET = "pgtrickle-ui-tests-only-" + "x" * 48


@pytest.fixture(scope="module")
def ui_app() -> Iterator[Any]:
    """The plugin's app, with the SimpleAuthManager initialized as the API server does."""
    from airflow_provider_pgtrickle.testing.airflow import AirflowHome

    saved = {k: os.environ.get(k) for k in ("AIRFLOW__API_AUTH__JWT_SECRET",)}
    os.environ["AIRFLOW__API_AUTH__JWT_SECRET"] = JWT_SECRET
    AirflowHome(Path(os.environ["AIRFLOW_HOME"])).migrate()
    from airflow.api_fastapi.app import init_auth_manager

    from airflow_provider_pgtrickle.ui.app import create_app

    init_auth_manager()
    try:
        yield create_app()
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
