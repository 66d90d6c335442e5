"""pg_trickle 0.108.3: the read functions dbt reads stream tables through when its role cannot
read the catalog (docs/pg_trickle-contract.md section 12).

Mirrors upstream's sql/archive/pg_trickle--0.108.3.sql: the `public_read` class of its ACL
block (GRANT EXECUTE ... TO PUBLIC) and the result columns of `fuse_status` and `list_sources`
(their `#[pg_extern]` definitions; `pgt_status`, `get_refresh_history`, `st_refresh_stats`
and `stream_table_spec` are pinned in test_v0108_api.py), and the keys `build_spec` puts in
`stream_table_spec()`'s JSON.
"""

from __future__ import annotations

import pytest

from ._helpers import Conn, create_st, make_source, scalar
from ._v0108 import require_0108, result_columns

# Every function the dbt macros call on the read-function path, by signature.
READ_PATH = (
    "pgtrickle.pgt_status()",
    "pgtrickle.stream_table_spec(text)",
    "pgtrickle.fuse_status()",
    "pgtrickle.get_refresh_history(text, integer)",
    "pgtrickle.list_sources(text)",
    "pgtrickle.st_refresh_stats()",
    "pgtrickle.is_drained()",
)

RESULTS: dict[str, list[tuple[str, str]]] = {
    "pgtrickle.fuse_status()": [
        ("stream_table", "text"), ("fuse_mode", "text"), ("fuse_state", "text"),
        ("fuse_ceiling", "bigint"), ("effective_ceiling", "bigint"),
        ("fuse_sensitivity", "integer"), ("blown_at", "timestamp with time zone"),
        ("blow_reason", "text"),
    ],
    "pgtrickle.list_sources(text)": [
        ("source_table", "text"), ("source_oid", "bigint"), ("source_type", "text"),
        ("cdc_mode", "text"), ("columns_used", "text"),
    ],
}  # fmt: skip


@pytest.fixture(autouse=True)
def _only_0108(pgtrickle_version: str) -> None:
    require_0108(pgtrickle_version)


@pytest.mark.parametrize("signature", READ_PATH)
def test_the_reader_role_may_call_the_read_path(pgtrickle_conn: Conn, signature: str) -> None:
    """public_read: granted to PUBLIC, so to pgtrickle_reader and every role."""
    assert scalar(
        pgtrickle_conn,
        "SELECT has_function_privilege('pgtrickle_reader', %s::regprocedure, 'EXECUTE')",
        [signature],
    )


@pytest.mark.parametrize("signature", list(RESULTS))
def test_result_columns(pgtrickle_conn: Conn, signature: str) -> None:
    assert result_columns(pgtrickle_conn, signature) == RESULTS[signature]


def test_stream_table_spec_keys(pgtrickle_conn: Conn) -> None:
    """build_spec: name, schema, query, refresh_mode, schedule, cdc_mode, oid, diamond_group,
    attach_outbox, cdc_slot_name; `oid` is the storage table's."""
    make_source(pgtrickle_conn)
    create_st(pgtrickle_conn, "public.t")
    spec = scalar(
        pgtrickle_conn, "SELECT pgtrickle.stream_table_spec(qualified_name => 'public.t')"
    )
    assert set(spec) == {
        "name", "schema", "query", "refresh_mode", "schedule", "cdc_mode", "oid",
        "diamond_group", "attach_outbox", "cdc_slot_name",
    }  # fmt: skip
    assert (spec["schema"], spec["name"]) == ("public", "t")
    assert spec["oid"] == scalar(pgtrickle_conn, "SELECT 'public.t'::regclass::oid::bigint")
