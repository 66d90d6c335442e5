"""pg_trickle 0.108.3: what the read functions return, as the provider reads them by name.

Where the catalog is not granted (0.96.0 and later), the provider reads stream-table state only
through `st_refresh_stats()` (src/monitor/mod.rs), `pgt_status()` and `fuse_status()`
(src/api/diagnostics.rs), `get_refresh_history(name, max_rows)` and `list_sources(name)`
(src/monitor/mod.rs) and `stream_table_spec(qualified_name)` (src/api/spec.rs), all granted to
PUBLIC by the ACL block of sql/archive/pg_trickle--0.108.3.sql. Each test names the upstream
function it mirrors: one row per stream table (or per source, per history row), names as
`schema.table`, newest history first, NULL for an unknown name.
"""

from __future__ import annotations

import pytest

from ._helpers import Conn, create_st, make_source, rows, scalar
from ._v0108 import require_0108

pytestmark = pytest.mark.usefixtures("_v0108_only")


@pytest.fixture
def _v0108_only(pgtrickle_version: str) -> None:
    require_0108(pgtrickle_version)


@pytest.fixture
def two_tables(pgtrickle_conn: Conn) -> None:
    make_source(pgtrickle_conn)
    create_st(pgtrickle_conn, "public.a", "SELECT id, v FROM public.src")
    create_st(pgtrickle_conn, "public.b", "SELECT sum(a.id) AS s FROM public.a AS a")


@pytest.mark.usefixtures("two_tables")
def test_st_refresh_stats_and_pgt_status_one_row_per_table(pgtrickle_conn: Conn) -> None:
    """src/monitor/mod.rs st_refresh_stats; src/api/diagnostics.rs pgt_status."""
    stats = rows(
        pgtrickle_conn, "SELECT pgt_schema, pgt_name, status FROM pgtrickle.st_refresh_stats()"
    )
    assert [(s["pgt_schema"], s["pgt_name"], s["status"]) for s in stats] == [
        ("public", "a", "ACTIVE"),
        ("public", "b", "ACTIVE"),
    ]
    status = rows(pgtrickle_conn, "SELECT name, data_timestamp FROM pgtrickle.pgt_status()")
    assert [s["name"] for s in status] == ["public.a", "public.b"]
    assert all(s["data_timestamp"] is not None for s in status)


@pytest.mark.usefixtures("two_tables")
def test_fuse_status_names_each_table_schema_qualified(pgtrickle_conn: Conn) -> None:
    """src/api/diagnostics.rs fuse_status."""
    fuses = rows(
        pgtrickle_conn, "SELECT stream_table, fuse_mode, fuse_state FROM pgtrickle.fuse_status()"
    )
    assert [(f["stream_table"], f["fuse_mode"], f["fuse_state"]) for f in fuses] == [
        ("public.a", "off", "armed"),
        ("public.b", "off", "armed"),
    ]


@pytest.mark.usefixtures("two_tables")
def test_list_sources_and_history_by_name(pgtrickle_conn: Conn) -> None:
    """src/monitor/mod.rs list_sources and get_refresh_history: a stream-table source is
    `STREAM_TABLE`, history comes newest first, an unknown name returns no rows."""
    sources = rows(
        pgtrickle_conn,
        "SELECT source_table, source_type FROM pgtrickle.list_sources(name => 'public.b')",
    )
    assert [(s["source_table"], s["source_type"]) for s in sources] == [
        ("public.a", "STREAM_TABLE")
    ]
    pgtrickle_conn.execute("SELECT pgtrickle.refresh_stream_table('public.a')")
    history = rows(
        pgtrickle_conn,
        "SELECT refresh_id, status"
        " FROM pgtrickle.get_refresh_history(name => 'public.a', max_rows => 5)",
    )
    ids = [h["refresh_id"] for h in history]
    assert ids == sorted(ids, reverse=True)
    assert len(ids) >= 2
    assert (
        rows(pgtrickle_conn, "SELECT * FROM pgtrickle.get_refresh_history(name => 'public.nope')")
        == []
    )


@pytest.mark.usefixtures("two_tables")
def test_stream_table_spec_gives_the_storage_oid_or_null(pgtrickle_conn: Conn) -> None:
    """src/api/spec.rs stream_table_spec_by_name: `oid` is the storage table's; NULL when the
    name is no stream table."""
    assert scalar(
        pgtrickle_conn,
        "SELECT (pgtrickle.stream_table_spec('public.a') ->> 'oid')::oid = 'public.a'::regclass",
    )
    assert scalar(pgtrickle_conn, "SELECT pgtrickle.stream_table_spec('public.nope')") is None
