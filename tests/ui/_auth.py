"""JWTs for the UI tests, signed by the auth manager the `ui_app` fixture initialized."""

from __future__ import annotations


def token_for(role: str, username: str | None = None) -> str:
    from airflow.api_fastapi.app import get_auth_manager
    from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser

    user = SimpleAuthManagerUser(username=username or role, role=role)
    return str(get_auth_manager().generate_jwt(user))
