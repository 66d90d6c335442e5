"""Direct DML on a stream table is refused (pg_trickle src/api/helpers.rs,
install_dml_guard_trigger)."""

from __future__ import annotations

import psycopg
import pytest

from ._helpers import Conn, content, create_st, make_source, rows

GUARD = "{} is not allowed. Stream tables are maintained automatically by pg_trickle."


@pytest.mark.parametrize(
    "statement",
    [
        "INSERT INTO public.t (id, v) VALUES (99, 99)",
        "UPDATE public.t SET v = v + 1",
        "DELETE FROM public.t",
        "TRUNCATE public.t",
    ],
    ids=["insert", "update", "delete", "truncate"],
)
def test_13_17_direct_dml_is_refused(pgtrickle_conn: Conn, statement: str) -> None:
    make_source(pgtrickle_conn)
    create_st(pgtrickle_conn, "public.t")
    before = content(pgtrickle_conn, "public.t")
    with pytest.raises(psycopg.Error) as err:
        pgtrickle_conn.execute(statement)  # type: ignore[arg-type]
    assert err.value.sqlstate == "P0001"
    # install_dml_guard_trigger prints TG_TABLE_NAME; the qualified spelling is accepted too.
    assert err.value.diag.message_primary in {
        GUARD.format("Direct DML on stream table public.t"),
        GUARD.format("Direct DML on stream table t"),
    }
    assert content(pgtrickle_conn, "public.t") == before


def test_13_17_guard_triggers_exist_and_reads_work(pgtrickle_conn: Conn) -> None:
    make_source(pgtrickle_conn)
    create_st(pgtrickle_conn, "public.t")
    triggers = rows(
        pgtrickle_conn,
        "SELECT tgname FROM pg_trigger WHERE tgrelid = 'public.t'::regclass"
        " AND tgname IN ('pgt_dml_guard', 'pgt_truncate_guard') ORDER BY 1",
    )
    assert [t["tgname"] for t in triggers] == ["pgt_dml_guard", "pgt_truncate_guard"]
    assert len(content(pgtrickle_conn, "public.t")) == 3
