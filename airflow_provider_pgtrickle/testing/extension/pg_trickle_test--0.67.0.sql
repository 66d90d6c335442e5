-- pg_trickle_test 0.67.0: helpers for the pg_trickle TEST DOUBLE. Not part of upstream.
\echo Use "CREATE EXTENSION pg_trickle_test" to load this file. \quit

-- Failures injected into the next scheduled attempts of a stream table.
CREATE TABLE pgtrickle_test.injected_failures (
    pgt_id bigint PRIMARY KEY REFERENCES pgtrickle.pgt_stream_tables (pgt_id) ON DELETE CASCADE,
    message text NOT NULL,
    permanent boolean NOT NULL DEFAULT false
);

CREATE FUNCTION pgtrickle_test._lookup(p_name text) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    p record;
    v_id bigint;
BEGIN
    p := pgtrickle._parse_name(p_name);
    SELECT s.pgt_id INTO v_id FROM pgtrickle.pgt_stream_tables s
     WHERE s.pgt_schema = p.nsp AND s.pgt_name = p.rel;
    IF v_id IS NULL THEN
        PERFORM pgtrickle._not_found(p.nsp, p.rel);
    END IF;
    RETURN v_id;
END
$$;

CREATE FUNCTION pgtrickle_test.inject_failure(name text, message text, permanent boolean DEFAULT false)
RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO pgtrickle_test.injected_failures AS f (pgt_id, message, permanent)
    VALUES (pgtrickle_test._lookup(inject_failure.name), inject_failure.message, coalesce(inject_failure.permanent, false))
    ON CONFLICT (pgt_id) DO UPDATE SET message = excluded.message, permanent = excluded.permanent;
END
$$;

CREATE FUNCTION pgtrickle_test.clear_failures(name text DEFAULT NULL) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF clear_failures.name IS NULL THEN
        DELETE FROM pgtrickle_test.injected_failures;
    ELSE
        DELETE FROM pgtrickle_test.injected_failures WHERE pgt_id = pgtrickle_test._lookup(clear_failures.name);
    END IF;
END
$$;

CREATE FUNCTION pgtrickle_test.age_stream_table(name text, by interval) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    v_id bigint := pgtrickle_test._lookup(age_stream_table.name);
BEGIN
    UPDATE pgtrickle.pgt_stream_tables
       SET last_refresh_at = last_refresh_at - age_stream_table.by,
           data_timestamp = data_timestamp - age_stream_table.by,
           last_error_at = last_error_at - age_stream_table.by
     WHERE pgt_id = v_id;
    UPDATE pgtrickle.pgt_refresh_history
       SET data_timestamp = data_timestamp - age_stream_table.by,
           start_time = start_time - age_stream_table.by,
           end_time = end_time - age_stream_table.by
     WHERE pgt_id = v_id;
END
$$;

-- Retryable: transient conditions (serialization, deadlock, lock/resource shortage, cancel,
-- connection). Everything else (missing objects, bad SQL, data errors) is permanent.
CREATE FUNCTION pgtrickle_test._is_retryable(p_sqlstate text) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
    SELECT left(p_sqlstate, 2) IN ('40', '53', '55', '57', '08', '58')
$$;

-- pg_trickle src/monitor/alert.rs, emit_alert: the payload of build_alert_payload
-- (`pgtrickle._pgt_alert_payload`) on pg_trickle_alert; nothing for a table in
-- pooler-compatibility mode (the scheduler passes the table's own flag).
CREATE FUNCTION pgtrickle_test._alert(p_event text, p_id bigint, p_extra jsonb DEFAULT '{}') RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    s record;
BEGIN
    SELECT * INTO s FROM pgtrickle.pgt_stream_tables WHERE pgt_id = p_id;
    IF s.pooler_compatibility_mode THEN
        RETURN;
    END IF;
    -- The payload text (and its cut when oversized) as the double's version builds it.
    PERFORM pg_notify('pg_trickle_alert',
        pgtrickle._pgt_alert_payload(p_event, s.pgt_schema, s.pgt_name, p_extra));
END
$$;

CREATE FUNCTION pgtrickle_test.run_scheduler_tick()
RETURNS TABLE(pgt_schema text, pgt_name text, action text, status text, error_message text)
LANGUAGE plpgsql AS $$
DECLARE
    cand record;
    s pgtrickle.pgt_stream_tables;
    secs bigint;
    mult integer;
    due boolean;
    pending bigint;
    opaque boolean;
    inj record;
    planned text;
    res record;
    err_msg text;
    err_state text;
    max_err integer := coalesce(nullif(current_setting('pg_trickle.max_consecutive_errors', true), '')::integer, 3);
    tiered boolean := coalesce(current_setting('pg_trickle.tiered_scheduling', true), 'on') NOT IN ('off', 'false');
    prev_internal text;
    started timestamptz;
    errors integer;
    ceiling bigint;
BEGIN
    IF coalesce(current_setting('pg_trickle.enabled', true), 'on') IN ('off', 'false') THEN
        RETURN;
    END IF;
    FOR cand IN
        WITH RECURSIVE lvl(id, depth) AS (
            SELECT st.pgt_id, 0 FROM pgtrickle.pgt_stream_tables st
            UNION ALL
            SELECT d.pgt_id, l.depth + 1
            FROM lvl l
            JOIN pgtrickle.pgt_stream_tables up ON up.pgt_id = l.id
            JOIN pgtrickle.pgt_dependencies d ON d.source_relid = up.pgt_relid AND d.source_type = 'STREAM_TABLE'
            WHERE l.depth < 64
        )
        SELECT l.id, max(l.depth) AS depth FROM lvl l GROUP BY l.id ORDER BY max(l.depth), l.id
    LOOP
        SELECT * INTO s FROM pgtrickle.pgt_stream_tables st WHERE st.pgt_id = cand.id;
        CONTINUE WHEN NOT FOUND;
        -- pg_trickle 0.108.3 (columns absent in 0.67.0, hence read as JSON): EXTERNAL
        -- orchestration and a 'manual' target_freshness take a table off the scheduler.
        CONTINUE WHEN to_jsonb(s) ->> 'orchestration_mode' = 'EXTERNAL'
                   OR to_jsonb(s) ->> 'target_freshness_mode' = 'MANUAL';
        CONTINUE WHEN s.status NOT IN ('ACTIVE', 'INITIALIZING') OR s.refresh_mode = 'IMMEDIATE';
        -- pg_trickle src/scheduler/mod.rs, check_schedule: an unpopulated table is refreshed
        -- before the tier is looked at, so only populated frozen tables are skipped.
        CONTINUE WHEN tiered AND s.refresh_tier = 'frozen' AND s.is_populated;

        IF s.topk_limit IS NOT NULL THEN
            -- A TopK refresh stores no frontier, so the changes above it stay pending for the
            -- scheduler (src/scheduler/mod.rs, upstream_change_state) after any refresh.
            pending := pgtrickle._pgt_unconsumed(s.pgt_id);
        ELSE
            SELECT coalesce(sum(p.pending_rows), 0) INTO pending
              FROM pgtrickle_changes.pgt_pending p WHERE p.pgt_id = s.pgt_id;
        END IF;
        -- Sources without change capture (materialized views, foreign tables) always count
        -- as changed.
        opaque := EXISTS (SELECT 1 FROM pgtrickle.pgt_dependencies d
                          WHERE d.pgt_id = s.pgt_id AND d.source_type IN ('MATVIEW', 'FOREIGN_TABLE'));

        IF NOT s.is_populated OR s.last_refresh_at IS NULL THEN
            due := true;
        ELSIF s.schedule IS NULL THEN
            due := pending > 0 OR opaque;
        ELSIF s.schedule ~ '[ @]' THEN
            due := pgtrickle._cron_due(s.schedule, s.last_refresh_at);
        ELSE
            secs := pgtrickle.parse_duration_seconds(s.schedule);
            mult := CASE WHEN NOT tiered THEN 1
                         ELSE CASE s.refresh_tier WHEN 'warm' THEN 2 WHEN 'cold' THEN 10 ELSE 1 END END;
            due := now() - s.last_refresh_at >= make_interval(secs => secs * mult);
        END IF;
        CONTINUE WHEN NOT due;

        -- pg_trickle src/scheduler/mod.rs, evaluate_fuse (FUSE-5), before the refresh: an
        -- armed fuse whose pending changes exceed its ceiling (the table's, else
        -- pg_trickle.fuse_default_ceiling) blows: the table is SUSPENDED and the event goes to
        -- the `pgtrickle_alert` channel (no underscore; sent whatever the pooler mode), as
        -- {"event":"fuse_blown","stream_table":"<schema>.<name>","pending":n,"ceiling":n}.
        IF s.fuse_mode <> 'off' AND s.fuse_state = 'armed' THEN
            ceiling := CASE WHEN s.fuse_ceiling > 0 THEN s.fuse_ceiling
                            ELSE coalesce(nullif(current_setting('pg_trickle.fuse_default_ceiling', true), '')::bigint, 0) END;
            IF ceiling > 0 AND pending > ceiling THEN
                UPDATE pgtrickle.pgt_stream_tables st
                   SET fuse_state = 'blown', blown_at = now(), status = 'SUSPENDED',
                       blow_reason = format('change buffer count (%s) exceeded ceiling (%s)', pending, ceiling)
                 WHERE st.pgt_id = s.pgt_id;
                RAISE WARNING 'pg_trickle: FUSE BLOWN for %.% — change buffer count (%) exceeded ceiling (%)',
                    s.pgt_schema, s.pgt_name, pending, ceiling;
                PERFORM pg_notify('pgtrickle_alert',
                    format('{"event":"fuse_blown","stream_table":"%s.%s","pending":%s,"ceiling":%s}',
                           s.pgt_schema, s.pgt_name, pending, ceiling));
                CONTINUE;
            END IF;
        END IF;

        pgt_schema := s.pgt_schema;
        pgt_name := s.pgt_name;
        error_message := NULL;

        -- Same locks as a manual refresh; the loser skips.
        IF NOT pg_try_advisory_xact_lock(s.pgt_id)
           OR NOT EXISTS (SELECT 1 FROM pgtrickle.pgt_stream_tables st
                           WHERE st.pgt_id = s.pgt_id FOR UPDATE SKIP LOCKED) THEN
            action := 'SKIP';
            status := 'SKIPPED';
            error_message := 'another refresh is already in progress';
            RETURN NEXT;
            CONTINUE;
        END IF;

        SELECT * INTO inj FROM pgtrickle_test.injected_failures f WHERE f.pgt_id = s.pgt_id;
        planned := CASE WHEN s.refresh_mode = 'FULL' OR s.topk_limit IS NOT NULL OR s.frontier IS NULL
                             OR s.needs_reinit THEN 'FULL' ELSE 'DIFFERENTIAL' END;

        IF inj.pgt_id IS NULL AND s.is_populated AND NOT s.needs_reinit AND pending = 0 AND NOT opaque THEN
            INSERT INTO pgtrickle.pgt_refresh_history AS h
                (pgt_id, data_timestamp, start_time, end_time, action, rows_inserted, rows_deleted,
                 status, initiated_by)
            VALUES (s.pgt_id, now(), now(), now(), 'NO_DATA', 0, 0, 'COMPLETED', 'SCHEDULER');
            -- A TopK table's NO_DATA action runs its MERGE and writes no catalog column
            -- (src/scheduler/mod.rs, execute_scheduled_refresh: the NO_DATA branch relies on
            -- execute_no_data_refresh, which the TopK path never calls).
            IF s.topk_limit IS NULL THEN
                UPDATE pgtrickle.pgt_stream_tables st
                   SET last_refresh_at = now(), consecutive_errors = 0, status = 'ACTIVE'
                 WHERE st.pgt_id = s.pgt_id;
            END IF;
            -- pg_trickle src/scheduler/mod.rs: a NO_DATA outcome is a completed refresh too.
            PERFORM pgtrickle_test._alert('refresh_completed', s.pgt_id,
                jsonb_build_object('action', 'NO_DATA', 'rows_inserted', 0, 'rows_deleted', 0,
                                   'duration_ms', 0));
            action := 'NO_DATA';
            status := 'COMPLETED';
            RETURN NEXT;
            CONTINUE;
        END IF;

        err_msg := NULL;
        started := clock_timestamp();
        prev_internal := current_setting('pg_trickle.internal_refresh', true);
        BEGIN
            IF inj.pgt_id IS NOT NULL THEN
                RAISE EXCEPTION USING MESSAGE = inj.message, ERRCODE = 'P0001';
            END IF;
            res := pgtrickle._pgt_refresh(s.pgt_id, 'SCHEDULER');
        EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS err_msg = MESSAGE_TEXT, err_state = RETURNED_SQLSTATE;
        END;
        PERFORM set_config('pg_trickle.internal_refresh', coalesce(prev_internal, ''), true);

        IF err_msg IS NULL THEN
            action := res.action;
            status := 'COMPLETED';
            IF res.action = 'FULL' AND s.topk_limit IS NULL THEN
                PERFORM pgtrickle._pgt_notify_full_refresh(s.pgt_id, res.rows_inserted);
            END IF;
            -- pg_trickle src/monitor/alert.rs, alert_refresh_completed.
            PERFORM pgtrickle_test._alert('refresh_completed', s.pgt_id,
                jsonb_build_object('action', res.action, 'rows_inserted', res.rows_inserted,
                                   'rows_deleted', res.rows_deleted,
                                   'duration_ms', floor(extract(epoch FROM clock_timestamp() - started) * 1000)::bigint));
            RETURN NEXT;
            CONTINUE;
        END IF;

        INSERT INTO pgtrickle.pgt_refresh_history AS h
            (pgt_id, data_timestamp, start_time, end_time, action, rows_inserted, rows_deleted,
             error_message, status, initiated_by)
        VALUES (s.pgt_id, now(), now(), now(), planned, 0, 0, err_msg, 'FAILED', 'SCHEDULER');
        -- pg_trickle src/scheduler/mod.rs: refresh_failed first, then (retryable failures
        -- that reach the limit) auto_suspended with the error count; src/monitor/alert.rs,
        -- alert_refresh_failed / alert_auto_suspended.
        PERFORM pgtrickle_test._alert('refresh_failed', s.pgt_id,
            jsonb_build_object('action', planned, 'error', err_msg));
        IF (inj.pgt_id IS NOT NULL AND inj.permanent)
           OR (inj.pgt_id IS NULL AND NOT pgtrickle_test._is_retryable(err_state)) THEN
            UPDATE pgtrickle.pgt_stream_tables st
               SET status = 'ERROR', last_error_message = err_msg, last_error_at = now()
             WHERE st.pgt_id = s.pgt_id;
        ELSE
            UPDATE pgtrickle.pgt_stream_tables st
               SET consecutive_errors = st.consecutive_errors + 1,
                   status = CASE WHEN st.consecutive_errors + 1 >= max_err THEN 'SUSPENDED' ELSE st.status END
             WHERE st.pgt_id = s.pgt_id
            RETURNING st.consecutive_errors INTO errors;
            IF errors >= max_err THEN
                PERFORM pgtrickle_test._alert('auto_suspended', s.pgt_id,
                    jsonb_build_object('consecutive_errors', errors));
            END IF;
        END IF;
        action := planned;
        status := 'FAILED';
        error_message := err_msg;
        RETURN NEXT;
    END LOOP;
END
$$;
