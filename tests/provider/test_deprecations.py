"""Public names that are going away keep working for now, with a warning naming the way out."""

from __future__ import annotations

import pytest

from airflow_provider_pgtrickle.exceptions import PgTrickleValidationError
from airflow_provider_pgtrickle.hooks.pgtrickle import PgTrickleHook
from airflow_provider_pgtrickle.testing import server
from airflow_provider_pgtrickle.types import StreamTableStatus


def test_hook_check_names() -> None:
    hook = PgTrickleHook("never_connected")
    with pytest.warns(DeprecationWarning, match=r"check_names\(\) is deprecated.*directly"):
        assert hook.check_names(["orders", "a.b"]) == ["public.orders", "a.b"]
    with (
        pytest.warns(DeprecationWarning, match="check_names"),
        pytest.raises(PgTrickleValidationError),
    ):
        hook.check_names(["Bad"])


def test_status_is_refreshable() -> None:
    expected = {"INITIALIZING": True, "ACTIVE": True, "SUSPENDED": False, "ERROR": False}
    for status in StreamTableStatus:
        with pytest.warns(DeprecationWarning, match=r"use `not status\.is_failed`"):
            assert status.is_refreshable is expected[status.value]


def test_testing_extension_dir() -> None:
    with pytest.warns(DeprecationWarning, match="EXTENSION_DIR"):
        assert server.extension_dir() == server.EXTENSION_DIR
    assert (server.EXTENSION_DIR / "pg_trickle.control").is_file()
