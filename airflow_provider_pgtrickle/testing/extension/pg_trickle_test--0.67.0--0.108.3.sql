-- Helpers for the pg_trickle 0.108.3 TEST DOUBLE: the update from the 0.67.0 helpers.
-- The test server installs it together with pg_trickle 0.108.3.

\echo Use "CREATE EXTENSION pg_trickle_test VERSION '0.108.3'" to load this file. \quit

-- pg_trickle src/monitor/alert.rs (0.108.3): every alert payload carries database_oid. The
-- 0.67.0 helper builds the payload; this wrapper only adds the key.
ALTER FUNCTION pgtrickle_test._alert(text, bigint, jsonb) RENAME TO _alert_v067;
CREATE FUNCTION pgtrickle_test._alert(p_event text, p_id bigint, p_extra jsonb DEFAULT '{}') RETURNS void
LANGUAGE sql AS $$
    SELECT pgtrickle_test._alert_v067(p_event, p_id,
        jsonb_build_object('database_oid',
            (SELECT d.oid::bigint FROM pg_database d WHERE d.datname = current_database())) || p_extra)
$$;
