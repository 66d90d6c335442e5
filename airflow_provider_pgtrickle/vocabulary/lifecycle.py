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

# A query change in place (`alter_stream_table(query => ...)`) keeps the storage table and
# migrates it (pg_trickle src/api/alter.rs, classify_schema_change and
# migrate_storage_table_compatible): columns the new query drops are dropped, new ones are
# appended with ALTER TABLE ADD COLUMN, that is after pg_trickle's own trailing columns
# (`__pgt_count` and the other aggregate helpers), a same-named column keeps its old type when
# an implicit cast exists, and a reordering is ignored. The full refresh that follows (and every
# later one) fills the table by position (src/refresh/merge/mod.rs, execute_full_refresh:
# `INSERT INTO <table> SELECT <row id>, sub.* ...`). So on 0.67.0 a query that adds or renames a
# column of an aggregate, reorders columns or changes a column's type gets values in the wrong
# columns: `count(*) AS n` replaced by `max(amount) AS biggest` leaves the counts in `biggest`
# and the maxima in `__pgt_count` (seen on a real 0.67.0 server; docs/pg_trickle-contract.md,
# "Query changes in place").
#
# IN_PLACE_QUERY_SQL says whether the in-place change is safe: no query column sits behind one
# of pg_trickle's helper columns, the new query's columns (names and types, in order) are the
# current ones with some left out and new ones appended at the end, and new ones are appended
# only to a table without helper columns (an aggregate's `__pgt_count` would sit before them).
# Otherwise our clients drop and create the stream table in the same transaction. Placeholders:
# {storage} - an expression for the storage table's OID; {new_columns} - a query returning the
# new query's columns as (attnum, name, typ).
IN_PLACE_QUERY_SQL = (
    "WITH cur AS (SELECT a.attnum, a.attname::text AS name, a.atttypid AS typ,"
    " a.attname LIKE '\\_\\_pgt\\_%' AS hidden FROM pg_catalog.pg_attribute AS a"
    " WHERE a.attrelid = {storage} AND a.attnum > 0 AND NOT a.attisdropped"
    " AND a.attname <> '__pgt_row_id'),"
    " new AS ({new_columns}),"
    " kept AS (SELECT c.attnum, c.name, c.typ FROM cur AS c"
    " WHERE NOT c.hidden AND c.name IN (SELECT n.name FROM new AS n)),"
    " added AS (SELECT n.attnum, n.name, n.typ FROM new AS n"
    " WHERE n.name NOT IN (SELECT c.name FROM cur AS c WHERE NOT c.hidden))"
    " SELECT NOT EXISTS (SELECT FROM cur AS h JOIN cur AS u ON u.attnum > h.attnum"
    " WHERE h.hidden AND NOT u.hidden)"
    " AND (NOT EXISTS (SELECT FROM added) OR NOT EXISTS (SELECT FROM cur WHERE cur.hidden))"
    " AND ARRAY(SELECT ROW(k.name, k.typ)::text FROM kept AS k ORDER BY k.attnum)"
    " || ARRAY(SELECT ROW(d.name, d.typ)::text FROM added AS d ORDER BY d.attnum)"
    " = ARRAY(SELECT ROW(n.name, n.typ)::text FROM new AS n ORDER BY n.attnum) AS in_place"
)
"""One statement returning one boolean column, `in_place`; fill the placeholders first."""
