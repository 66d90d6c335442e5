"""Two sessions creating stream tables on the same source at once (dbt with `threads > 1`)."""

from __future__ import annotations

import threading
from typing import Any

import psycopg
import pytest

from airflow_provider_pgtrickle.testing.server import TestDatabase

pytestmark = pytest.mark.requires_double

CREATE = "SELECT pgtrickle.create_stream_table(%s, 'SELECT id, v FROM src', schedule => '1m')"


def test_second_create_on_the_same_source_waits_and_succeeds(
    pgtrickle_db: TestDatabase, pgtrickle_conn: psycopg.Connection[Any]
) -> None:
    pgtrickle_conn.execute("CREATE TABLE src (id integer PRIMARY KEY, v integer)")
    pgtrickle_conn.execute("INSERT INTO src VALUES (1, 10)")
    errors: list[BaseException] = []

    def second() -> None:
        try:
            with pgtrickle_db.connect() as other:
                other.execute(CREATE, ["public.b"])
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)

    with pgtrickle_db.connect(autocommit=False) as first:
        first.execute(CREATE, ["public.a"])
        thread = threading.Thread(target=second)
        thread.start()
        # The second session must queue behind the first one's uncommitted capture triggers.
        thread.join(timeout=1)
        assert thread.is_alive()
        first.commit()
    thread.join(timeout=30)
    assert not thread.is_alive()
    assert errors == []
    with pgtrickle_db.connect() as check:
        names = check.execute(
            "SELECT pgt_name FROM pgtrickle.pgt_stream_tables ORDER BY 1"
        ).fetchall()
        triggers = check.execute(
            "SELECT count(*) FROM pg_trigger WHERE tgrelid = 'src'::regclass"
            " AND tgname LIKE 'pgt_cdc_%'"
        ).fetchone()
    assert names == [("a",), ("b",)]
    assert triggers == (5,)
