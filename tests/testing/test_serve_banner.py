"""What `serve` tells users about making a refresh happen, checked against the double.

pg_trickle announces a refresh (`refresh_completed` on `pg_trickle_alert`) from its scheduler
only; a manual `refresh_stream_table` announces none (docs/pg_trickle-contract.md, section 6).
The banner names the double's scheduler tick for the first; both halves of the statement are
checked here on the double, with a separate LISTENing connection.
"""

from __future__ import annotations

import io
import json
from typing import Any

import psycopg
import pytest

from airflow_provider_pgtrickle.testing import __main__ as cli
from airflow_provider_pgtrickle.testing.server import TestDatabase


def test_the_banner_names_the_scheduler_tick_and_what_a_manual_refresh_does_not_send(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class Stop(Exception):
        pass

    def interrupt() -> None:
        raise Stop

    # `serve` waits for a signal after printing; stop it there instead.
    monkeypatch.setattr(cli.signal, "pause", interrupt)
    out = io.StringIO()
    with pytest.raises(Stop):
        cli.serve("banner", out)
    text = out.getvalue()
    assert f"Tick:     {cli.TICK_SQL}" in text
    assert "sends no `refresh_completed`" in text
    assert text.index("Tick:") < text.index("Press Ctrl-C")


@pytest.mark.requires_double
def test_the_tick_the_banner_names_announces_a_refresh_and_a_manual_refresh_does_not(
    pgtrickle_db: TestDatabase, pgtrickle_conn: psycopg.Connection[Any]
) -> None:
    conn = pgtrickle_conn
    conn.execute("CREATE TABLE public.src (id int PRIMARY KEY, v int)")
    conn.execute("INSERT INTO public.src VALUES (1, 10)")
    conn.execute(
        "SELECT pgtrickle.create_stream_table(name => 'public.t',"
        " query => 'SELECT id, v FROM public.src', schedule => 'calculated')"
    )

    def announced(run: str) -> list[str]:
        """Events `pg_trickle_alert` carries for public.t after ``run`` committed: a marker
        sent after it arrives after anything the refresh sent (commit order)."""
        with pgtrickle_db.connect(autocommit=True) as listener:
            listener.execute("LISTEN pg_trickle_alert")
            listener.execute("LISTEN banner_marker")
            conn.execute("INSERT INTO public.src VALUES ((SELECT max(id) + 1 FROM public.src), 1)")
            with pgtrickle_db.admin_connect(autocommit=True) as admin:
                admin.execute(run)
                admin.execute("NOTIFY banner_marker")
            events = []
            for note in listener.notifies(timeout=30):
                if note.channel == "banner_marker":
                    return events
                payload = json.loads(note.payload)
                if payload.get("st") == "public.t":
                    events.append(payload["event"])
        raise AssertionError("the marker notification never arrived")

    assert announced(cli.TICK_SQL) == ["refresh_completed"]
    assert announced("SELECT pgtrickle.refresh_stream_table(name => 'public.t')") == []
    with pgtrickle_db.connect() as other:
        row = other.execute("SELECT count(*) FROM public.t").fetchone()
    assert row == (3,)  # both refreshes happened
