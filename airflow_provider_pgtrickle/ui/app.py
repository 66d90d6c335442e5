"""The FastAPI app behind the stream tables page, mounted by Airflow's API server.

Airflow does not protect plugin endpoints by itself, so every data endpoint depends on
Airflow's own `get_user` (the UI's `_token` cookie or an `Authorization: Bearer` token,
validated by the configured auth manager): an anonymous request gets 401. The page shell and
its static files carry no data and are served to anyone, so the login redirect can happen in
the page.

Actions (refresh, resume) are off unless `[pgtrickle_ui] enable_actions = True`, and then
need the auth manager's permission to edit the connection (``PUT`` on it).

Configuration (section ``[pgtrickle_ui]``, or ``AIRFLOW__PGTRICKLE_UI__<KEY>``):

- ``dbt_manifest_path``: a dbt ``manifest.json``; when set, the page says which stream
  tables a dbt model manages (otherwise "unknown").
- ``enable_actions``: offer refresh/resume buttons (default False).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from airflow.api_fastapi.core_api.security import get_user
from fastapi import Depends, FastAPI, HTTPException, Response, status
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

from airflow_provider_pgtrickle.ui import data
from airflow_provider_pgtrickle.vocabulary.config import STATUSES
from airflow_provider_pgtrickle.vocabulary.health import FAILED_STATUSES

if TYPE_CHECKING:
    from airflow.api_fastapi.auth.managers.models.base_user import BaseUser

    from airflow_provider_pgtrickle.hooks.pgtrickle import PgTrickleHook

STATIC_DIR = Path(__file__).parent / "static"
CONFIG_SECTION = "pgtrickle_ui"
HISTORY_ROWS = 30


# Airflow's own dependency: the UI's `_token` cookie or a bearer token, checked by the auth
# manager; 401 without one.
User = Annotated[Any, Depends(get_user)]


def _config(key: str, fallback: str) -> str:
    from airflow.configuration import conf

    return str(conf.get(CONFIG_SECTION, key, fallback=fallback))


def actions_enabled() -> bool:
    return _config("enable_actions", "False").strip().lower() in ("true", "1", "yes", "on")


def _error(code: int, message: str) -> HTTPException:
    return HTTPException(status_code=code, detail=message)


def _hook(connection_id: str) -> PgTrickleHook:
    """A hook on `connection_id`, refusing unknown connections and other connection types."""
    from airflow_provider_pgtrickle._compat import AirflowNotFoundException
    from airflow_provider_pgtrickle.hooks.pgtrickle import PgTrickleHook

    hook = PgTrickleHook(postgres_conn_id=connection_id)
    try:
        conn_type = hook.connection.conn_type
    except AirflowNotFoundException:
        raise _error(
            status.HTTP_404_NOT_FOUND,
            f"Connection `{connection_id}` is not defined in Airflow; pick one of type "
            f"{' or '.join(data.CONNECTION_TYPES)} or create it under Admin > Connections.",
        ) from None
    if conn_type not in data.CONNECTION_TYPES:
        raise _error(
            status.HTTP_400_BAD_REQUEST,
            f"Connection `{connection_id}` has type `{conn_type}`; the stream tables page reads "
            f"connections of type {' or '.join(data.CONNECTION_TYPES)}.",
        )
    return hook


def _database_call(connection_id: str, call: Any, *args: Any) -> Any:
    """Run a hook call, turning database failures into JSON errors that name the connection."""
    import psycopg

    from airflow_provider_pgtrickle.exceptions import (
        PgTrickleError,
        PgTrickleExtensionMissingError,
        PgTrickleValidationError,
    )

    try:
        return call(*args)
    except PgTrickleExtensionMissingError as error:
        raise _error(status.HTTP_409_CONFLICT, str(error)) from None
    except PgTrickleValidationError as error:
        raise _error(status.HTTP_400_BAD_REQUEST, str(error)) from None
    except PgTrickleError as error:
        # The hook's message names the operation and the server's reason; the page shows
        # several connections, so say which one.
        raise _error(
            status.HTTP_502_BAD_GATEWAY, f"Connection `{connection_id}`: {error}"
        ) from None
    except psycopg.Error as error:
        # Connection failures: libpq's message names host and port, never the password.
        primary = str(error).strip().splitlines()[0] if str(error).strip() else type(error)
        raise _error(
            status.HTTP_502_BAD_GATEWAY,
            f"Connection `{connection_id}`: the database could not be reached ({primary}); "
            "check the connection's host, port and credentials.",
        ) from None


def _dbt_models() -> data.DbtModels | None:
    path = _config("dbt_manifest_path", "").strip()
    if not path:
        return None
    try:
        return data.load_dbt_models(path)
    except (OSError, ValueError) as error:
        raise _error(
            status.HTTP_500_INTERNAL_SERVER_ERROR,
            f"dbt manifest `{path}` ([{CONFIG_SECTION}] dbt_manifest_path) could not be read: "
            f"{error}; point the setting at a dbt target/manifest.json or unset it.",
        ) from None


def list_connections() -> list[dict[str, str]]:
    """Connections of type postgres/pgtrickle from the metadata database and the environment."""
    from airflow.models.connection import Connection
    from airflow.utils.session import create_session

    found: dict[str, str] = {}
    with create_session() as session:
        for conn_id, conn_type in session.query(Connection.conn_id, Connection.conn_type).filter(
            Connection.conn_type.in_(data.CONNECTION_TYPES)
        ):
            found[conn_id] = conn_type
    # Environment connections (AIRFLOW_CONN_<ID>) take precedence in Airflow's lookup order.
    prefix = "AIRFLOW_CONN_"
    for key, value in os.environ.items():
        if not key.startswith(prefix):
            continue
        conn_id = key[len(prefix) :].lower()
        try:
            if value.lstrip().startswith("{"):
                conn_type = str(json.loads(value).get("conn_type", ""))
            else:
                conn_type = Connection(conn_id=conn_id, uri=value).conn_type or ""
        except (ValueError, AttributeError):
            continue
        if conn_type in data.CONNECTION_TYPES:
            found[conn_id] = conn_type
    return [{"connection_id": c, "conn_type": t} for c, t in sorted(found.items())]


def _require_action_permission(connection_id: str, user: BaseUser) -> None:
    from airflow.api_fastapi.app import get_auth_manager
    from airflow.api_fastapi.auth.managers.models.resource_details import ConnectionDetails

    if not actions_enabled():
        raise _error(
            status.HTTP_403_FORBIDDEN,
            "Actions on stream tables are disabled; set [pgtrickle_ui] enable_actions = True "
            "to offer refresh and resume to users allowed to edit the connection.",
        )
    allowed = get_auth_manager().is_authorized_connection(
        method="PUT", details=ConnectionDetails(conn_id=connection_id), user=user
    )
    if not allowed:
        raise _error(
            status.HTTP_403_FORBIDDEN,
            f"Refresh and resume on connection `{connection_id}` need permission to edit that "
            "connection; ask an Airflow admin for it.",
        )


def create_app() -> FastAPI:
    app = FastAPI(
        title="pg_trickle stream tables",
        description="Stream tables, their health and dependencies, for the Airflow UI.",
        docs_url=None,
        redoc_url=None,
    )
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="pgtrickle_ui_static")

    @app.get("/", include_in_schema=False)
    def page() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html", headers={"Cache-Control": "no-cache"})

    @app.get("/api/config")
    def config(user: User) -> dict[str, Any]:
        # The page's status filter and its Resume button read the vocabulary from here
        # rather than spelling the statuses out in JavaScript.
        return {
            "actions_enabled": actions_enabled(),
            "refresh_seconds": 30,
            "statuses": list(STATUSES),
            "failed_statuses": list(FAILED_STATUSES),
        }

    @app.get("/api/connections")
    def connections(user: User) -> dict[str, Any]:
        return {"connections": list_connections()}

    @app.get("/api/connections/{connection_id}/overview")
    def get_overview(connection_id: str, user: User) -> Response:
        started = time.perf_counter()
        hook = _hook(connection_id)
        result = _database_call(connection_id, data.overview, hook, connection_id, _dbt_models())
        # `to_dict()` is JSON-native already: skipping FastAPI's generic encoder matters at
        # thousands of rows.
        body = json.dumps(result.to_dict(), separators=(",", ":"))
        elapsed = (time.perf_counter() - started) * 1000
        return Response(
            body, media_type="application/json", headers={"Server-Timing": f"app;dur={elapsed:.1f}"}
        )

    @app.get("/api/connections/{connection_id}/stream-tables/{name}/history")
    def get_history(connection_id: str, name: str, user: User) -> dict[str, Any]:
        hook = _hook(connection_id)
        rows = _database_call(connection_id, data.history, hook, name, HISTORY_ROWS)
        return {"stream_table": name, "history": [r.to_dict() for r in rows]}

    @app.post("/api/connections/{connection_id}/stream-tables/{name}/{action}")
    def act(connection_id: str, name: str, action: str, user: User) -> JSONResponse:
        if action not in ("refresh", "resume"):
            raise _error(
                status.HTTP_404_NOT_FOUND,
                f"Action `{action}` is not offered; accepted: refresh, resume.",
            )
        _require_action_permission(connection_id, user)
        hook = _hook(connection_id)
        if action == "refresh":
            result = _database_call(connection_id, hook.refresh_stream_table, name)
            return JSONResponse({"stream_table": name, "result": result.to_dict()})
        _database_call(connection_id, hook.resume_stream_table, name)
        return JSONResponse({"stream_table": name, "result": "resumed"})

    return app
