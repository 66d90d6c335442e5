"""`PgTrickleUIPlugin`: the Airflow plugin behind the stream tables page.

Airflow imports every plugin in most of its processes (scheduler, workers, DAG processor),
but only the API server serves the page, so this module imports nothing heavy: the FastAPI
app is built on its first request (`_LazyApp`).
"""

from __future__ import annotations

from typing import Any

from airflow.plugins_manager import AirflowPlugin

URL_PREFIX = "/pgtrickle"


class _LazyApp:
    """An ASGI app that builds `airflow_provider_pgtrickle.ui.app.create_app()` when first used."""

    def __init__(self) -> None:
        self._app: Any = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if self._app is None:
            from airflow_provider_pgtrickle.ui.app import create_app

            self._app = create_app()
        await self._app(scope, receive, send)


class PgTrickleUIPlugin(AirflowPlugin):
    """Stream tables page: API under `/pgtrickle`, shown in Airflow's navigation."""

    name = "pgtrickle_ui"
    fastapi_apps = [
        {"app": _LazyApp(), "url_prefix": URL_PREFIX, "name": "pg_trickle stream tables"}
    ]
    # With `url_route` set, Airflow shows the page inside its own layout (an iframe at
    # /plugin/stream-tables) instead of opening a new tab.
    external_views = [
        {
            # Airflow's sidebar cuts labels after about ten characters.
            "name": "Streams",
            "href": f"{URL_PREFIX}/",
            "url_route": "stream-tables",
            "destination": "nav",
            "nav_top_level": True,
            "icon": f"{URL_PREFIX}/static/icon.svg",
            "icon_dark_mode": f"{URL_PREFIX}/static/icon-dark.svg",
        }
    ]
