"""The health sensor on a database without pg_trickle says so, as the hook's
test_connection() does, instead of passing the server's `relation ... does not exist` on."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from airflow_provider_pgtrickle.exceptions import (
    PgTrickleExtensionMissingError,
    StreamTableNotFoundError,
)
from airflow_provider_pgtrickle.hooks.pgtrickle import PgTrickleHook
from airflow_provider_pgtrickle.sensors.pgtrickle import PgTrickleHealthSensor
from airflow_provider_pgtrickle.testing.server import TestDatabase


@pytest.mark.requires_double
def test_the_sensor_on_a_database_without_pg_trickle_names_the_fix(
    pgtrickle_db: TestDatabase,
    pgtrickle_conn: psycopg.Connection[Any],
    pgtrickle_airflow_conn: str,
) -> None:
    pgtrickle_conn.execute("DROP EXTENSION pg_trickle CASCADE")
    sensor = PgTrickleHealthSensor(
        task_id="healthy",
        stream_tables="public.order_totals",
        postgres_conn_id=pgtrickle_airflow_conn,
        poke_interval=0,
        timeout=0,
        deferrable=False,
    )

    with pytest.raises(PgTrickleExtensionMissingError) as raised:
        sensor.poke({})

    message = str(raised.value)
    assert not isinstance(raised.value, StreamTableNotFoundError)
    assert f"missing in database `{pgtrickle_db.dbname}`" in message
    assert message.endswith("run `CREATE EXTENSION pg_trickle` as a superuser or upgrade it.")
    # The hook's own check says the same thing in its words.
    ok, said = PgTrickleHook(postgres_conn_id=pgtrickle_airflow_conn).test_connection()
    assert not ok
    assert "extension is NOT installed there" in said
