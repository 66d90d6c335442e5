"""Which pg_trickle calls our clients serialize, and the lock they take to do it.

pg_trickle 0.67.0 does not serialize two sessions that install change capture on the same
source at once: `create_stream_table_impl` (src/api/create.rs) creates the source's change
buffer table, its row type and its `pgt_change_tracking` row without a lock that a second
creating session waits on, so two dbt threads (or two Airflow tasks) creating stream tables
over one source fail with `23505` on `pg_type_typname_nsp_index` or
`pgt_change_tracking_pkey`, or deadlock (seen on a real 0.67.0 server; see
docs/pg_trickle-contract.md, "Concurrent lifecycle calls"). Refreshes are not affected: they
take pg_trickle's own per-table locks.

So every lifecycle call the hook or the dbt package sends first takes one transaction-scoped
advisory lock, held until the call's transaction commits or rolls back. Clients other than
ours do not take it; the docs say so.
"""

from __future__ import annotations

LIFECYCLE_LOCK_KEY = 8_099_570_489_592_343_404
"""`pg_advisory_xact_lock(key)`: a fixed 64-bit key ("pgtrickl" in ASCII, read as a bigint)."""

LIFECYCLE_FUNCTIONS = (
    "create_stream_table",
    "create_stream_table_if_not_exists",
    "create_or_replace_stream_table",
    "alter_stream_table",
    "drop_stream_table",
)
"""The calls that install or remove change capture on sources, and so are serialized."""

LOCK_SQL = f"select pg_advisory_xact_lock({LIFECYCLE_LOCK_KEY})"
"""The statement itself: the key is ours, not a user value, so it is written into the text."""
