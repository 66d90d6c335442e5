-- Helpers for the pg_trickle 0.108.3 TEST DOUBLE: the update from the 0.67.0 helpers.
-- The test server installs it together with pg_trickle 0.108.3.

\echo Use "CREATE EXTENSION pg_trickle_test VERSION '0.108.3'" to load this file. \quit

-- pg_trickle src/monitor/alert.rs (0.108.3): every alert payload carries database_oid and an
-- oversized one stays valid JSON. The 0.67.0 helper's `_alert` builds its payload with
-- pgtrickle._pgt_alert_payload, which the pg_trickle 0.108.3 double replaces: nothing to
-- change here.
