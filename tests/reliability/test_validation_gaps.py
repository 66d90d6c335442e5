"""Values that used to pass validation (or crash it) and must be refused with a clear error."""

from __future__ import annotations

import math
import traceback
from typing import Any

import pytest

from airflow_provider_pgtrickle.exceptions import PgTrickleError, PgTrickleValidationError
from airflow_provider_pgtrickle.hooks.pgtrickle import PgTrickleHook
from airflow_provider_pgtrickle.operators.pgtrickle import (
    PgTrickleCreateStreamTableOperator,
    PgTrickleRefreshOperator,
)
from airflow_provider_pgtrickle.sensors.pgtrickle import PgTrickleHealthSensor
from airflow_provider_pgtrickle.testing.pytest_plugin import StatementLog
from airflow_provider_pgtrickle.testing.server import TestDatabase

from .conftest import ORDERS_QUERY, context, snapshot

SYSTEM_SCHEMAS = [
    "pg_temp",
    "pg_catalog",
    "pg_toast",
    "information_schema",
    "pgtrickle",
    "pgtrickle_changes",
    "pg_temp_3",
]


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_max_delta_fraction_must_be_finite(hook: PgTrickleHook, value: float) -> None:
    with pytest.raises(
        PgTrickleValidationError, match=r"max_delta_fraction .* accepted: a finite number"
    ):
        hook.create_stream_table("public.t", ORDERS_QUERY, max_delta_fraction=value)


@pytest.mark.parametrize("value", [math.nan, math.inf])
def test_sensor_max_staleness_must_be_finite(value: Any) -> None:
    with pytest.raises(PgTrickleValidationError, match=r"max_staleness (nan|inf)"):
        PgTrickleHealthSensor(task_id="s", stream_tables="public.t", max_staleness=value)


@pytest.mark.parametrize("schedule", ["²", "١٢٣", "5²m"])
def test_non_ascii_digits_are_a_validation_error(hook: PgTrickleHook, schedule: str) -> None:
    with pytest.raises(PgTrickleValidationError, match="schedule"):
        hook.create_stream_table("public.t", ORDERS_QUERY, schedule=schedule)


@pytest.mark.parametrize("value", [0, 1.5, b"public.t", {"public.t": 1}, object()])
def test_stream_tables_of_the_wrong_type(value: Any) -> None:
    op = PgTrickleRefreshOperator(task_id="r", stream_tables=value)
    with pytest.raises(PgTrickleValidationError, match="`stream_tables`"):
        op.execute(context())
    with pytest.raises(PgTrickleValidationError, match="`stream_tables`"):
        PgTrickleHealthSensor(task_id="s", stream_tables=value)._names()


@pytest.mark.parametrize("timeout", [1e12, math.inf])
def test_deferrable_sensor_timeout_must_be_representable(timeout: float) -> None:
    with pytest.raises(PgTrickleValidationError, match="timeout"):
        PgTrickleHealthSensor(
            task_id="s", stream_tables="public.t", deferrable=True, timeout=timeout
        )


def test_schema_longer_than_63_bytes_fails_at_once() -> None:
    sensor = PgTrickleHealthSensor(task_id="s", schema="s" * 64)
    with pytest.raises(PgTrickleValidationError, match="longer than 63 bytes"):
        sensor.poke(context())


@pytest.mark.parametrize("schema", SYSTEM_SCHEMAS)
@pytest.mark.usefixtures("orders")
def test_system_and_extension_schemas_are_refused(
    hook: PgTrickleHook,
    schema: str,
    pgtrickle_db: TestDatabase,
    pgtrickle_statement_log: StatementLog,
) -> None:
    before = snapshot(pgtrickle_db)
    pgtrickle_statement_log.mark()
    with pytest.raises(PgTrickleValidationError, match="system or extension schema") as caught:
        hook.create_or_replace_stream_table(f"{schema}.x", "SELECT 1 AS a")
    assert repr(schema) in str(caught.value)
    with pytest.raises(PgTrickleValidationError, match="system or extension schema"):
        hook.list_stream_tables(schema=schema)
    with pytest.raises(PgTrickleValidationError, match="system or extension schema"):
        PgTrickleCreateStreamTableOperator(task_id="c", stream_table=f"{schema}.x", query="q")
    assert pgtrickle_statement_log.statements() == []
    assert snapshot(pgtrickle_db) == before


_HUGE_SCHEDULE = "99999999999999999999w"


@pytest.mark.parametrize(
    ("call", "argument"),
    [
        (lambda h: h.create_stream_table("t", "SELECT 1", schedule=_HUGE_SCHEDULE), "schedule"),
        (lambda h: h.get_refresh_history("t", max_rows=2**40), "max_rows"),
        (lambda h: h.alter_stream_table("t", fuse_sensitivity=2**31), "fuse_sensitivity"),
        (lambda h: h.alter_stream_table("t", fuse_ceiling=2**63), "fuse_ceiling"),
        (
            lambda h: h.alter_stream_table("t", max_differential_joins=2**31),
            "max_differential_joins",
        ),
    ],
)
def test_out_of_range_values_name_the_argument(
    hook: PgTrickleHook, pgtrickle_statement_log: StatementLog, call: Any, argument: str
) -> None:
    pgtrickle_statement_log.mark()
    with pytest.raises(PgTrickleValidationError) as caught:
        call(hook)
    assert argument in str(caught.value)
    assert "range" in str(caught.value) or "more than pg_trickle can store" in str(caught.value)
    assert pgtrickle_statement_log.statements() == []


def test_a_value_equal_to_a_connection_secret_is_masked(
    monkeypatch: pytest.MonkeyPatch, pgtrickle_db: TestDatabase
) -> None:
    secret = "Tr0ub4dor&3-correct-horse"
    monkeypatch.setenv(
        "AIRFLOW_CONN_SECRETIVE",
        f"postgres://postgres:{secret.replace('&', '%26')}@127.0.0.1:{pgtrickle_db.port}"
        f"/{pgtrickle_db.dbname}",
    )
    # Fetching the connection registers its password with the masker, as in a task.
    hook = PgTrickleHook(postgres_conn_id="secretive")
    assert hook.connection.password == secret
    # A templated field rendered to the secret (e.g. `{{ conn.secretive.password }}`).
    op = PgTrickleCreateStreamTableOperator(
        task_id="c", stream_table="{{ x }}", query=ORDERS_QUERY, postgres_conn_id="secretive"
    )
    op.stream_table = secret
    with pytest.raises(PgTrickleError) as caught:
        op.execute(context())
    rendered = "".join(traceback.format_exception(caught.value))
    assert secret not in str(caught.value)
    assert secret not in rendered
    assert "***" in str(caught.value)
