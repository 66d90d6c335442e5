"""Two sessions creating stream tables over one source at once (dbt with `threads > 1`).

Mirrors pg_trickle 0.67.0 src/api/create.rs: create_stream_table_impl creates the source's
change buffer (`pgtrickle_changes.changes_<oid>`) when none exists, with no lock a second
creating session waits on first. Both sessions see no buffer, and the second one's CREATE
fails on the catalog's unique index once the first commits. Seen on a real 0.67.0 server as
`23505` on `pg_type_typname_nsp_index` or `pgt_change_tracking_pkey`, or as a deadlock,
depending on timing. Our clients therefore serialize their own lifecycle calls
(airflow_provider_pgtrickle/vocabulary/lifecycle.py; tests/provider/test_concurrent_lifecycle.py).
"""

from __future__ import annotations

import threading
from typing import Any

import psycopg

from airflow_provider_pgtrickle.testing.server import TestDatabase

from ._helpers import make_source

CREATE = "SELECT pgtrickle.create_stream_table(%s, 'SELECT id, v FROM src', schedule => '1h')"


def test_second_concurrent_create_on_the_same_source_fails_once_the_first_commits(
    pgtrickle_db: TestDatabase, pgtrickle_conn: psycopg.Connection[Any]
) -> None:
    make_source(pgtrickle_conn)
    errors: list[psycopg.Error] = []
    started = threading.Event()

    def second() -> None:
        try:
            with pgtrickle_db.connect() as other:
                started.set()
                other.execute(CREATE, ["public.b"])
        except psycopg.Error as exc:  # inspected below
            errors.append(exc)

    with pgtrickle_db.connect(autocommit=False) as first:
        first.execute(CREATE, ["public.a"])
        thread = threading.Thread(target=second)
        thread.start()
        started.wait(10)
        # The second session blocks on the first one's uncommitted catalog rows ...
        thread.join(timeout=1)
        assert thread.is_alive()
        first.commit()
    thread.join(timeout=30)
    assert not thread.is_alive()
    # ... and fails once they commit: the engine does not serialize the two.
    assert len(errors) == 1, errors
    assert errors[0].sqlstate in {"23505", "40P01"}, (errors[0].sqlstate, str(errors[0]))
    with pgtrickle_db.connect() as check:
        names = check.execute("SELECT pgt_name FROM pgtrickle.pgt_stream_tables").fetchall()
    assert names == [("a",)]


def test_a_shared_advisory_lock_makes_both_creates_succeed(
    pgtrickle_db: TestDatabase, pgtrickle_conn: psycopg.Connection[Any]
) -> None:
    """What our clients do: each lifecycle transaction first takes one advisory lock."""
    from airflow_provider_pgtrickle.vocabulary.lifecycle import LOCK_SQL

    make_source(pgtrickle_conn)
    errors: list[psycopg.Error] = []

    def second() -> None:
        try:
            with pgtrickle_db.connect(autocommit=False) as other:
                other.execute(LOCK_SQL)  # type: ignore[arg-type]
                other.execute(CREATE, ["public.b"])
                other.commit()
        except psycopg.Error as exc:
            errors.append(exc)

    with pgtrickle_db.connect(autocommit=False) as first:
        first.execute(LOCK_SQL)  # type: ignore[arg-type]
        first.execute(CREATE, ["public.a"])
        thread = threading.Thread(target=second)
        thread.start()
        thread.join(timeout=1)
        first.commit()
    thread.join(timeout=30)
    assert errors == []
    with pgtrickle_db.connect() as check:
        names = check.execute(
            "SELECT pgt_name FROM pgtrickle.pgt_stream_tables ORDER BY 1"
        ).fetchall()
    assert names == [("a",), ("b",)]
