-- pg_trickle 0.108.3 TEST DOUBLE (airflow-provider-pgtrickle): the update from the 0.67.0 double.
-- `CREATE EXTENSION pg_trickle VERSION '0.108.3'` runs pg_trickle--0.67.0.sql and then this
-- file, as upstream's own upgrade scripts do. It changes only what a client sees differently
-- in pg_trickle 0.108.3 (API frozen since 0.104.0), learned from upstream's generated install
-- script sql/archive/pg_trickle--0.108.3.sql and src/api/*.rs; see docs/pg_trickle-contract.md.
-- Everything else (the refresh engine, the DDL tracking, the scheduler helpers) is the 0.67.0
-- double's: where 0.108.3 wraps a function, the 0.67.0 one moves to the schema pgtrickle_v067.

\echo Use "CREATE EXTENSION pg_trickle VERSION '0.108.3'" to load this file. \quit

CREATE OR REPLACE FUNCTION pgtrickle.version() RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT '0.108.3'::text $$;

-- ---------------------------------------------------------------------------------------
-- Catalog (sql/archive/pg_trickle--0.108.3.sql, pgt_stream_tables / pgt_refresh_history /
-- pgt_dependencies). New columns are appended: a client reads them by name.
-- ---------------------------------------------------------------------------------------
-- `stream_tables_info` is `st.*` and pins every column; both views are rebuilt below.
DROP VIEW pgtrickle.stream_tables_info;
DROP VIEW pgtrickle.pg_stat_stream_tables;

-- DuckLake sink removed (0.76.1).
DROP TABLE pgtrickle.pgt_ducklake_provenance;
ALTER TABLE pgtrickle.pgt_stream_tables
    DROP COLUMN ducklake_compaction_policy,
    DROP COLUMN ducklake_sink_mode,
    DROP COLUMN ducklake_sink_path,
    DROP COLUMN ducklake_sink_table_id,
    ADD COLUMN requested_refresh_mode text NOT NULL DEFAULT 'DIFFERENTIAL'
        CONSTRAINT pgt_stream_tables_requested_refresh_mode_check
        CHECK (requested_refresh_mode IN ('AUTO', 'FULL', 'DIFFERENTIAL', 'IMMEDIATE')),
    ADD COLUMN tentative_frontier jsonb,
    ADD COLUMN self_heal_work_mem_percent smallint NOT NULL DEFAULT 100
        CHECK (self_heal_work_mem_percent BETWEEN 25 AND 100),
    ADD COLUMN self_heal_lock_backoff_exponent smallint NOT NULL DEFAULT 0
        CHECK (self_heal_lock_backoff_exponent BETWEEN 0 AND 6),
    ADD COLUMN self_heal_success_streak smallint NOT NULL DEFAULT 0
        CHECK (self_heal_success_streak BETWEEN 0 AND 3),
    ADD COLUMN last_error_code text
        CONSTRAINT pgt_stream_tables_last_error_code_check
        CHECK (last_error_code IS NULL OR last_error_code IN ('LOCK_TIMEOUT', 'STATEMENT_TIMEOUT',
            'DEADLOCK', 'SERIALIZATION', 'OUT_OF_MEMORY', 'CANCELLED', 'PERMANENT',
            'UNKNOWN_RETRYABLE')),
    ADD COLUMN last_error_retryable boolean,
    ADD COLUMN target_freshness_mode text
        CONSTRAINT pgt_stream_tables_target_freshness_mode_check
        CHECK (target_freshness_mode IS NULL OR target_freshness_mode IN ('INTERVAL', 'ON_COMMIT', 'MANUAL')),
    ADD COLUMN refresh_reason text,
    ADD COLUMN refresh_reason_detail text,
    ADD COLUMN in_shadow_build boolean NOT NULL DEFAULT false,
    ADD COLUMN shadow_table_name text,
    ADD COLUMN storage_fillfactor integer
        CHECK (storage_fillfactor IS NULL OR (storage_fillfactor >= 10 AND storage_fillfactor <= 100)),
    ADD COLUMN query_complexity_class text,
    ADD COLUMN row_identity_version smallint,
    ADD COLUMN row_probe_version smallint,
    ADD COLUMN window_strategy jsonb
        CHECK (window_strategy IS NULL OR jsonb_typeof(window_strategy) = 'object'),
    -- Upstream writes it on every create; the default covers the 0.67.0 code paths.
    ADD COLUMN defining_search_path text NOT NULL DEFAULT current_setting('search_path'),
    ADD COLUMN orchestration_mode text NOT NULL DEFAULT 'MANAGED'
        CONSTRAINT pgt_stream_tables_orchestration_mode_check
        CHECK (orchestration_mode IN ('MANAGED', 'EXTERNAL')),
    ADD COLUMN contract_generation bigint NOT NULL DEFAULT 1 CHECK (contract_generation > 0);

ALTER TABLE pgtrickle.pgt_refresh_history
    DROP CONSTRAINT pgt_refresh_history_initiated_by_check,
    ADD CONSTRAINT pgt_refresh_history_initiated_by_check
        CHECK (initiated_by IN ('SCHEDULER', 'MANUAL', 'INITIAL', 'SELF_MONITOR', 'SCHEDULER_FUSED',
                                'EXTERNAL_GRAPH')),
    ADD COLUMN rows_updated bigint NOT NULL DEFAULT 0,
    ADD COLUMN refresh_reason text,
    ADD COLUMN refresh_reason_detail text,
    ADD COLUMN error_code text
        CONSTRAINT pgt_refresh_history_error_code_check
        CHECK (error_code IS NULL OR error_code IN ('LOCK_TIMEOUT', 'STATEMENT_TIMEOUT', 'DEADLOCK',
            'SERIALIZATION', 'OUT_OF_MEMORY', 'CANCELLED', 'PERMANENT', 'UNKNOWN_RETRYABLE')),
    ADD COLUMN error_sqlstate text,
    ADD COLUMN retryable boolean,
    ADD COLUMN duration_ms double precision,
    ADD COLUMN source_commit_at timestamptz,
    ADD COLUMN visibility_xid xid,
    ADD COLUMN visible_at timestamptz,
    ADD COLUMN commit_to_visible_ms double precision,
    ADD COLUMN plan_identity bigint;

ALTER TABLE pgtrickle.pgt_dependencies
    DROP CONSTRAINT pgt_dependencies_cdc_mode_check,
    ADD CONSTRAINT pgt_dependencies_cdc_mode_check CHECK (cdc_mode IN ('TRIGGER', 'TRANSITIONING', 'WAL')),
    ADD COLUMN cutover_target text CHECK (cutover_target IN ('TRIGGER', 'WAL')),
    ADD COLUMN cutover_lsn pg_lsn;

-- contract_generation counts result-affecting changes (upstream's
-- _bump_contract_generation trigger; the column list is the same).
CREATE FUNCTION pgtrickle._bump_contract_generation() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF (OLD.pgt_relid, OLD.pgt_name, OLD.pgt_schema, OLD.defining_query, OLD.original_query,
        OLD.refresh_mode, OLD.requested_refresh_mode, OLD.functions_used, OLD.topk_limit,
        OLD.topk_order_by, OLD.topk_offset, OLD.diamond_consistency, OLD.diamond_schedule_policy,
        OLD.has_keyless_source, OLD.requested_cdc_mode, OLD.is_append_only, OLD.scc_id,
        OLD.st_partition_key, OLD.temporal_mode, OLD.storage_backend, OLD.row_identity_version,
        OLD.row_probe_version, OLD.defining_search_path, OLD.orchestration_mode)
       IS DISTINCT FROM
       (NEW.pgt_relid, NEW.pgt_name, NEW.pgt_schema, NEW.defining_query, NEW.original_query,
        NEW.refresh_mode, NEW.requested_refresh_mode, NEW.functions_used, NEW.topk_limit,
        NEW.topk_order_by, NEW.topk_offset, NEW.diamond_consistency, NEW.diamond_schedule_policy,
        NEW.has_keyless_source, NEW.requested_cdc_mode, NEW.is_append_only, NEW.scc_id,
        NEW.st_partition_key, NEW.temporal_mode, NEW.storage_backend, NEW.row_identity_version,
        NEW.row_probe_version, NEW.defining_search_path, NEW.orchestration_mode) THEN
        NEW.contract_generation := OLD.contract_generation + 1;
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER pgt_stream_tables_contract_generation BEFORE UPDATE ON pgtrickle.pgt_stream_tables
    FOR EACH ROW EXECUTE FUNCTION pgtrickle._bump_contract_generation();

-- ---------------------------------------------------------------------------------------
-- Typed refresh outcomes (0.85.0): last_error_code / last_error_retryable on the catalog,
-- error_code / retryable / error_sqlstate on history. The 0.67.0 double's failure paths
-- record a failure as a FAILED history row followed by a catalog update: ERROR for a
-- permanent failure, one more consecutive_errors for a retryable one. These triggers type
-- both from that update, so every failure path (manual, scheduler tick, injected) is typed
-- without being rewritten. The SQLSTATE is not known here, so a retryable failure is
-- UNKNOWN_RETRYABLE and a permanent one PERMANENT (two of upstream's classes).
-- ---------------------------------------------------------------------------------------
CREATE FUNCTION pgtrickle._type_refresh_outcome() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    failed boolean := false;
BEGIN
    IF NEW.status = 'ERROR' AND OLD.status IS DISTINCT FROM 'ERROR' THEN
        NEW.last_error_code := 'PERMANENT';
        NEW.last_error_retryable := false;
        failed := true;
    ELSIF NEW.consecutive_errors > OLD.consecutive_errors THEN
        NEW.last_error_code := 'UNKNOWN_RETRYABLE';
        NEW.last_error_retryable := true;
        failed := true;
    ELSIF NEW.consecutive_errors = 0 AND NEW.status = 'ACTIVE' AND NEW.last_error_message IS NULL THEN
        NEW.last_error_code := NULL;
        NEW.last_error_retryable := NULL;
    END IF;
    IF failed THEN
        UPDATE pgtrickle.pgt_refresh_history h
           SET error_code = NEW.last_error_code, retryable = NEW.last_error_retryable
         WHERE h.refresh_id = (SELECT max(h2.refresh_id) FROM pgtrickle.pgt_refresh_history h2
                                WHERE h2.pgt_id = NEW.pgt_id AND h2.status = 'FAILED')
           AND h.error_code IS NULL;
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER pgt_stream_tables_refresh_outcome BEFORE UPDATE ON pgtrickle.pgt_stream_tables
    FOR EACH ROW EXECUTE FUNCTION pgtrickle._type_refresh_outcome();

-- duration_ms is a history column since 0.90.0; the double's writers set start/end only.
CREATE FUNCTION pgtrickle._history_duration() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.duration_ms IS NULL AND NEW.end_time IS NOT NULL THEN
        NEW.duration_ms := extract(epoch FROM NEW.end_time - NEW.start_time) * 1000;
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER pgt_refresh_history_duration BEFORE INSERT OR UPDATE ON pgtrickle.pgt_refresh_history
    FOR EACH ROW EXECUTE FUNCTION pgtrickle._history_duration();

-- ---------------------------------------------------------------------------------------
-- Row identity V2 (0.87.16): __pgt_row_id is BYTEA NOT NULL (the hooks of the 0.67.0 double).
-- Upstream encodes the row with encode_row_id_v3; the double keeps its own key text and
-- stores its MD5 digest.
-- ---------------------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION pgtrickle._row_id_type() RETURNS text
LANGUAGE sql IMMUTABLE AS $$ SELECT 'bytea NOT NULL' $$;
CREATE OR REPLACE FUNCTION pgtrickle._row_id_sql(p_key text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$ SELECT format('decode(md5(%s), ''hex'')', p_key) $$;

-- ---------------------------------------------------------------------------------------
-- Where the 0.67.0 implementations of wrapped functions go. They keep their names (their
-- PL/pgSQL bodies qualify arguments with the function name) and stay out of reach.
-- ---------------------------------------------------------------------------------------
CREATE SCHEMA pgtrickle_v067;
REVOKE ALL ON SCHEMA pgtrickle_v067 FROM PUBLIC;

-- ---------------------------------------------------------------------------------------
-- Who is asking. The lifecycle and read functions are SECURITY DEFINER (as upstream's), so
-- current_user is the extension owner inside them; upstream checks the outer caller
-- (src/api/helpers.rs, check_stream_table_ownership with outer_user_id). A SECURITY DEFINER
-- call does not change the `role` setting, so SET ROLE or else the session user is the caller.
-- ---------------------------------------------------------------------------------------
CREATE FUNCTION pgtrickle._caller() RETURNS name
LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN coalesce(current_setting('role', true), 'none') IN ('none', '')
                THEN session_user ELSE current_setting('role')::name END
$$;

CREATE FUNCTION pgtrickle._caller_is_superuser() RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT coalesce((SELECT r.rolsuper FROM pg_roles r WHERE r.rolname = pgtrickle._caller()), false)
$$;

-- Same rule as the 0.67.0 double's, applied to the outer caller.
CREATE OR REPLACE FUNCTION pgtrickle._check_owner(st pgtrickle.pgt_stream_tables) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF NOT pgtrickle._caller_is_superuser()
       AND NOT pg_has_role(pgtrickle._caller(),
                           coalesce((SELECT relowner FROM pg_class WHERE oid = st.pgt_relid), 10), 'USAGE') THEN
        RAISE EXCEPTION USING ERRCODE = '42501', MESSAGE =
            format('permission denied: must be owner of stream table %s.%s', st.pgt_schema, st.pgt_name);
    END IF;
END
$$;

-- src/api/helpers.rs, resolve_owned_stream_table: look up, then authorize, before any change.
CREATE FUNCTION pgtrickle._owned_stream_table(p_name text) RETURNS pgtrickle.pgt_stream_tables
LANGUAGE plpgsql AS $$
DECLARE
    p record;
    st pgtrickle.pgt_stream_tables;
BEGIN
    p := pgtrickle._parse_name(p_name);
    SELECT * INTO st FROM pgtrickle.pgt_stream_tables s WHERE s.pgt_schema = p.nsp AND s.pgt_name = p.rel;
    IF NOT FOUND THEN
        PERFORM pgtrickle._not_found(p.nsp, p.rel);
    END IF;
    PERFORM pgtrickle._check_owner(st);
    RETURN st;
END
$$;

-- ---------------------------------------------------------------------------------------
-- target_freshness (0.86.0): an interval, 'on_commit' (IMMEDIATE) or 'manual' (off the
-- scheduler; manual refreshes stay allowed). Interval targets need exact commit times
-- (0.90.0), so they are refused without track_commit_timestamp.
-- ---------------------------------------------------------------------------------------
CREATE FUNCTION pgtrickle._target_freshness(p_target text, OUT mode text, OUT seconds bigint)
LANGUAGE plpgsql AS $$
DECLARE
    d record;
    t text := lower(btrim(p_target));
BEGIN
    IF t = 'manual' THEN
        mode := 'MANUAL';
    ELSIF t IN ('on_commit', 'on commit') THEN
        mode := 'ON_COMMIT';
    ELSE
        d := pgtrickle._parse_duration(btrim(p_target));
        IF d.err IS NOT NULL OR d.seconds IS NULL OR d.seconds <= 0 THEN
            PERFORM pgtrickle._invalid(format(
                'invalid target_freshness ''%s'' (expected an interval such as ''5m'', ''on_commit'' or ''manual'')',
                p_target));
        END IF;
        IF coalesce(current_setting('track_commit_timestamp', true), 'off') NOT IN ('on', 'true') THEN
            PERFORM pgtrickle._invalid(format(
                'target_freshness ''%s'' needs track_commit_timestamp = on; use schedule => ''%s'' instead',
                p_target, btrim(p_target)));
        END IF;
        mode := 'INTERVAL';
        seconds := d.seconds;
    END IF;
END
$$;

CREATE FUNCTION pgtrickle._orchestration_mode(p_mode text, p_refresh_mode text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    m text := upper(btrim(p_mode));
BEGIN
    IF m IS NULL OR m NOT IN ('MANAGED', 'EXTERNAL') THEN
        PERFORM pgtrickle._invalid(format('invalid orchestration_mode ''%s'' (expected ''MANAGED'' or ''EXTERNAL'')', p_mode));
    END IF;
    -- src/api/integration.rs
    IF m = 'EXTERNAL' AND upper(btrim(coalesce(p_refresh_mode, ''))) = 'IMMEDIATE' THEN
        PERFORM pgtrickle._invalid('EXTERNAL orchestration cannot be combined with IMMEDIATE refresh mode');
    END IF;
    RETURN m;
END
$$;

-- ---------------------------------------------------------------------------------------
-- create_stream_table (sql/archive/pg_trickle--0.108.3.sql: 19 arguments; sink,
-- ducklake_sink_path and ducklake_sink_table_id are gone, fillfactor, target_freshness and
-- orchestration_mode are new). The 0.67.0 implementation does the work.
-- ---------------------------------------------------------------------------------------
ALTER FUNCTION pgtrickle.create_stream_table(text, text, text, text, boolean, text, text, text,
    boolean, boolean, text, integer, double precision, text, boolean, text, text, text, bigint)
    SET SCHEMA pgtrickle_v067;

CREATE FUNCTION pgtrickle.create_stream_table(
    name text,
    query text,
    schedule text DEFAULT 'calculated',
    refresh_mode text DEFAULT 'AUTO',
    initialize boolean DEFAULT true,
    diamond_consistency text DEFAULT NULL,
    diamond_schedule_policy text DEFAULT NULL,
    cdc_mode text DEFAULT NULL,
    append_only boolean DEFAULT false,
    pooler_compatibility_mode boolean DEFAULT false,
    partition_by text DEFAULT NULL,
    max_differential_joins integer DEFAULT NULL,
    max_delta_fraction double precision DEFAULT NULL,
    output_distribution_column text DEFAULT NULL,
    temporal boolean DEFAULT false,
    storage_backend text DEFAULT NULL,
    fillfactor integer DEFAULT NULL,
    target_freshness text DEFAULT NULL,
    orchestration_mode text DEFAULT 'MANAGED') RETURNS void
LANGUAGE plpgsql SECURITY DEFINER AS $$
#variable_conflict use_variable
DECLARE
    caller name := pgtrickle._caller();
    p record;
    tf_mode text;
    tf_seconds bigint;
    v_orch text;
    v_schedule text := schedule;
    v_mode text := refresh_mode;
    st pgtrickle.pgt_stream_tables;
    src record;
BEGIN
    p := pgtrickle._parse_name(name);
    -- Everything is checked before anything is created.
    IF fillfactor IS NOT NULL AND (fillfactor < 10 OR fillfactor > 100) THEN
        PERFORM pgtrickle._invalid(format('fillfactor must be between 10 and 100, got %s', fillfactor));
    END IF;
    IF target_freshness IS NOT NULL THEN
        IF schedule IS NOT NULL AND lower(btrim(schedule)) <> 'calculated' THEN
            PERFORM pgtrickle._invalid('choose either schedule or target_freshness, not both');
        END IF;
        SELECT t.mode, t.seconds INTO tf_mode, tf_seconds FROM pgtrickle._target_freshness(target_freshness) t;
        IF tf_mode = 'INTERVAL' THEN
            v_schedule := btrim(target_freshness);
        ELSIF tf_mode = 'ON_COMMIT' THEN
            IF upper(btrim(coalesce(refresh_mode, 'AUTO'))) NOT IN ('AUTO', 'IMMEDIATE') THEN
                PERFORM pgtrickle._invalid(format(
                    'target_freshness ''on_commit'' needs refresh_mode IMMEDIATE, got ''%s''', refresh_mode));
            END IF;
            v_mode := 'IMMEDIATE';
        END IF;
    END IF;
    v_orch := pgtrickle._orchestration_mode(coalesce(orchestration_mode, 'MANAGED'), v_mode);
    IF NOT pgtrickle._caller_is_superuser()
       AND to_regnamespace(quote_ident(p.nsp)) IS NOT NULL
       AND NOT has_schema_privilege(caller, to_regnamespace(quote_ident(p.nsp)), 'CREATE') THEN
        RAISE EXCEPTION USING ERRCODE = '42501',
            MESSAGE = format('permission denied for schema %s', p.nsp);
    END IF;

    PERFORM pgtrickle_v067.create_stream_table(name, query, v_schedule, v_mode, initialize,
        diamond_consistency, diamond_schedule_policy, cdc_mode, append_only,
        pooler_compatibility_mode, partition_by, max_differential_joins, max_delta_fraction,
        output_distribution_column, temporal, storage_backend, NULL, NULL, NULL);

    SELECT * INTO st FROM pgtrickle.pgt_stream_tables s WHERE s.pgt_schema = p.nsp AND s.pgt_name = p.rel;
    -- The query ran as the extension owner: the caller must be able to read what it reads
    -- (a failure here rolls the whole create back).
    IF NOT pgtrickle._caller_is_superuser() THEN
        FOR src IN SELECT d.source_relid FROM pgtrickle.pgt_dependencies d WHERE d.pgt_id = st.pgt_id LOOP
            IF NOT has_table_privilege(caller, src.source_relid, 'SELECT') THEN
                RAISE EXCEPTION USING ERRCODE = '42501',
                    MESSAGE = format('permission denied for table %s', src.source_relid::regclass);
            END IF;
        END LOOP;
    END IF;
    UPDATE pgtrickle.pgt_stream_tables s SET
        requested_refresh_mode = CASE WHEN upper(btrim(refresh_mode)) IN ('AUTO', 'FULL', 'DIFFERENTIAL', 'IMMEDIATE')
                                      THEN upper(btrim(refresh_mode)) ELSE s.refresh_mode END,
        storage_fillfactor = fillfactor,
        target_freshness_mode = tf_mode,
        freshness_deadline_ms = CASE WHEN tf_mode = 'INTERVAL' THEN tf_seconds * 1000 END,
        orchestration_mode = v_orch,
        row_identity_version = 3,
        row_probe_version = 1,
        defining_search_path = current_setting('search_path')
    WHERE s.pgt_id = st.pgt_id;
    IF fillfactor IS NOT NULL THEN
        EXECUTE format('ALTER TABLE %s SET (fillfactor = %s)', st.pgt_relid::regclass, fillfactor);
    END IF;
    -- 0.81.1: a stream table belongs to the role that created it.
    IF NOT pgtrickle._caller_is_superuser() THEN
        EXECUTE format('ALTER TABLE %s OWNER TO %I', st.pgt_relid::regclass, caller);
    END IF;
END
$$;

-- create_stream_table_if_not_exists: the same 19 arguments.
DROP FUNCTION pgtrickle.create_stream_table_if_not_exists(text, text, text, text, boolean, text,
    text, text, boolean, boolean, text, integer, double precision, text, boolean, text, text, text,
    bigint);
CREATE FUNCTION pgtrickle.create_stream_table_if_not_exists(
    name text,
    query text,
    schedule text DEFAULT 'calculated',
    refresh_mode text DEFAULT 'AUTO',
    initialize boolean DEFAULT true,
    diamond_consistency text DEFAULT NULL,
    diamond_schedule_policy text DEFAULT NULL,
    cdc_mode text DEFAULT NULL,
    append_only boolean DEFAULT false,
    pooler_compatibility_mode boolean DEFAULT false,
    partition_by text DEFAULT NULL,
    max_differential_joins integer DEFAULT NULL,
    max_delta_fraction double precision DEFAULT NULL,
    output_distribution_column text DEFAULT NULL,
    temporal boolean DEFAULT false,
    storage_backend text DEFAULT NULL,
    fillfactor integer DEFAULT NULL,
    target_freshness text DEFAULT NULL,
    orchestration_mode text DEFAULT 'MANAGED') RETURNS void
LANGUAGE plpgsql SECURITY DEFINER AS $$
#variable_conflict use_variable
DECLARE
    p record;
BEGIN
    p := pgtrickle._parse_name(name);
    IF EXISTS (SELECT 1 FROM pgtrickle.pgt_stream_tables s WHERE s.pgt_schema = p.nsp AND s.pgt_name = p.rel) THEN
        RAISE INFO 'Stream table %.% already exists — skipping creation.', p.nsp, p.rel;
        RETURN;
    END IF;
    PERFORM pgtrickle.create_stream_table(name, query, schedule, refresh_mode, initialize,
        diamond_consistency, diamond_schedule_policy, cdc_mode, append_only,
        pooler_compatibility_mode, partition_by, max_differential_joins, max_delta_fraction,
        output_distribution_column, temporal, storage_backend, fillfactor, target_freshness,
        orchestration_mode);
END
$$;

-- ---------------------------------------------------------------------------------------
-- alter_stream_table (20 arguments: sink, ducklake_sink_path, ducklake_sink_table_id gone,
-- target_freshness new). The 0.67.0 implementation checks ownership and does the work.
-- ---------------------------------------------------------------------------------------
ALTER FUNCTION pgtrickle.alter_stream_table(text, text, text, text, text, text, text, text,
    boolean, boolean, text, text, bigint, integer, text, integer, double precision, text,
    double precision, text, text, bigint)
    SET SCHEMA pgtrickle_v067;

CREATE FUNCTION pgtrickle.alter_stream_table(
    name text,
    query text DEFAULT NULL,
    schedule text DEFAULT NULL,
    refresh_mode text DEFAULT NULL,
    status text DEFAULT NULL,
    diamond_consistency text DEFAULT NULL,
    diamond_schedule_policy text DEFAULT NULL,
    cdc_mode text DEFAULT NULL,
    append_only boolean DEFAULT NULL,
    pooler_compatibility_mode boolean DEFAULT NULL,
    tier text DEFAULT NULL,
    fuse text DEFAULT NULL,
    fuse_ceiling bigint DEFAULT NULL,
    fuse_sensitivity integer DEFAULT NULL,
    partition_by text DEFAULT NULL,
    max_differential_joins integer DEFAULT NULL,
    max_delta_fraction double precision DEFAULT NULL,
    post_refresh_action text DEFAULT NULL,
    reindex_drift_threshold double precision DEFAULT NULL,
    target_freshness text DEFAULT NULL) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER AS $$
#variable_conflict use_variable
DECLARE
    p record;
    tf_mode text;
    tf_seconds bigint;
    v_schedule text := schedule;
    v_mode text := refresh_mode;
    st pgtrickle.pgt_stream_tables;
BEGIN
    st := pgtrickle._owned_stream_table(name);
    IF target_freshness IS NOT NULL THEN
        IF schedule IS NOT NULL THEN
            PERFORM pgtrickle._invalid('choose either schedule or target_freshness, not both');
        END IF;
        SELECT t.mode, t.seconds INTO tf_mode, tf_seconds FROM pgtrickle._target_freshness(target_freshness) t;
        IF tf_mode = 'INTERVAL' THEN
            v_schedule := btrim(target_freshness);
        ELSIF tf_mode = 'ON_COMMIT' THEN
            IF refresh_mode IS NOT NULL AND upper(btrim(refresh_mode)) <> 'IMMEDIATE' THEN
                PERFORM pgtrickle._invalid(format(
                    'target_freshness ''on_commit'' needs refresh_mode IMMEDIATE, got ''%s''', refresh_mode));
            END IF;
            v_mode := CASE WHEN st.refresh_mode = 'IMMEDIATE' THEN NULL ELSE 'IMMEDIATE' END;
        END IF;
    END IF;
    IF st.orchestration_mode = 'EXTERNAL' AND upper(btrim(coalesce(v_mode, ''))) = 'IMMEDIATE' THEN
        PERFORM pgtrickle._invalid('EXTERNAL orchestration cannot be combined with IMMEDIATE refresh mode');
    END IF;
    PERFORM pgtrickle_v067.alter_stream_table(
        name => name, query => query, schedule => v_schedule, refresh_mode => v_mode,
        status => status, diamond_consistency => diamond_consistency,
        diamond_schedule_policy => diamond_schedule_policy, cdc_mode => cdc_mode,
        append_only => append_only, pooler_compatibility_mode => pooler_compatibility_mode,
        tier => tier, fuse => fuse, fuse_ceiling => fuse_ceiling,
        fuse_sensitivity => fuse_sensitivity, partition_by => partition_by,
        max_differential_joins => max_differential_joins,
        max_delta_fraction => max_delta_fraction, post_refresh_action => post_refresh_action,
        reindex_drift_threshold => reindex_drift_threshold);
    UPDATE pgtrickle.pgt_stream_tables s SET
        requested_refresh_mode = CASE
            WHEN v_mode IS NOT NULL AND upper(btrim(v_mode)) IN ('AUTO', 'FULL', 'DIFFERENTIAL', 'IMMEDIATE')
            THEN upper(btrim(v_mode)) ELSE s.requested_refresh_mode END,
        target_freshness_mode = CASE WHEN tf_mode IS NOT NULL THEN tf_mode
                                     WHEN schedule IS NOT NULL THEN NULL
                                     ELSE s.target_freshness_mode END,
        freshness_deadline_ms = CASE WHEN tf_mode = 'INTERVAL' THEN tf_seconds * 1000
                                     WHEN tf_mode IS NOT NULL OR schedule IS NOT NULL THEN NULL
                                     ELSE s.freshness_deadline_ms END,
        defining_search_path = CASE WHEN query IS NOT NULL THEN current_setting('search_path')
                                    ELSE s.defining_search_path END
    WHERE s.pgt_id = st.pgt_id;
END
$$;

-- ---------------------------------------------------------------------------------------
-- create_or_replace_stream_table (17 arguments: + orchestration_mode, NULL = keep).
-- ---------------------------------------------------------------------------------------
ALTER FUNCTION pgtrickle.create_or_replace_stream_table(text, text, text, text, boolean, text,
    text, text, boolean, boolean, text, integer, double precision, text, boolean, text)
    SET SCHEMA pgtrickle_v067;

CREATE FUNCTION pgtrickle.create_or_replace_stream_table(
    name text,
    query text,
    schedule text DEFAULT 'calculated',
    refresh_mode text DEFAULT 'AUTO',
    initialize boolean DEFAULT true,
    diamond_consistency text DEFAULT NULL,
    diamond_schedule_policy text DEFAULT NULL,
    cdc_mode text DEFAULT NULL,
    append_only boolean DEFAULT false,
    pooler_compatibility_mode boolean DEFAULT false,
    partition_by text DEFAULT NULL,
    max_differential_joins integer DEFAULT NULL,
    max_delta_fraction double precision DEFAULT NULL,
    output_distribution_column text DEFAULT NULL,
    temporal boolean DEFAULT false,
    storage_backend text DEFAULT NULL,
    orchestration_mode text DEFAULT NULL) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER AS $$
#variable_conflict use_variable
DECLARE
    p record;
    existed boolean;
    v_orch text;
    st pgtrickle.pgt_stream_tables;
BEGIN
    p := pgtrickle._parse_name(name);
    existed := EXISTS (SELECT 1 FROM pgtrickle.pgt_stream_tables s WHERE s.pgt_schema = p.nsp AND s.pgt_name = p.rel);
    IF orchestration_mode IS NOT NULL THEN
        v_orch := pgtrickle._orchestration_mode(orchestration_mode, refresh_mode);
    END IF;
    IF NOT existed THEN
        PERFORM pgtrickle.create_stream_table(name, query, schedule, refresh_mode, initialize,
            diamond_consistency, diamond_schedule_policy, cdc_mode, append_only,
            pooler_compatibility_mode, partition_by, max_differential_joins, max_delta_fraction,
            output_distribution_column, temporal, storage_backend,
            orchestration_mode => coalesce(v_orch, 'MANAGED'));
        RETURN;
    END IF;
    PERFORM pgtrickle_v067.create_or_replace_stream_table(name, query, schedule, refresh_mode,
        initialize, diamond_consistency, diamond_schedule_policy, cdc_mode, append_only,
        pooler_compatibility_mode, partition_by, max_differential_joins, max_delta_fraction,
        output_distribution_column, temporal, storage_backend);
    IF v_orch IS NOT NULL THEN
        st := pgtrickle._owned_stream_table(name);
        IF v_orch = 'EXTERNAL' AND st.refresh_mode = 'IMMEDIATE' THEN
            PERFORM pgtrickle._invalid('EXTERNAL orchestration cannot be combined with IMMEDIATE refresh mode');
        END IF;
        UPDATE pgtrickle.pgt_stream_tables s SET orchestration_mode = v_orch
         WHERE s.pgt_id = st.pgt_id AND s.orchestration_mode IS DISTINCT FROM v_orch;
    END IF;
END
$$;

-- ---------------------------------------------------------------------------------------
-- refresh / resume / repair: owner-checked (src/api/refresh_ops.rs, refresh_stream_table_impl
-- and src/api/alter.rs: resolve_owned_stream_table), EXTERNAL tables refused by refresh.
-- ---------------------------------------------------------------------------------------
ALTER FUNCTION pgtrickle.refresh_stream_table(text) SET SCHEMA pgtrickle_v067;
CREATE FUNCTION pgtrickle.refresh_stream_table(name text) RETURNS void
LANGUAGE plpgsql STRICT SECURITY DEFINER AS $$
DECLARE
    st pgtrickle.pgt_stream_tables;
BEGIN
    IF pg_is_in_recovery() THEN
        PERFORM pgtrickle_v067.refresh_stream_table(name);
    END IF;
    st := pgtrickle._owned_stream_table(name);
    IF st.orchestration_mode = 'EXTERNAL' THEN
        RAISE EXCEPTION USING ERRCODE = '55000', MESSAGE = format(
            'PGT_EXT_ORCHESTRATION_MODE: stream table %s.%s is EXTERNAL; refreshes must be submitted by its coordinator',
            st.pgt_schema, st.pgt_name);
    END IF;
    PERFORM pgtrickle_v067.refresh_stream_table(name);
END
$$;

-- The 0.67.0 double's resume, owner-checked and with database_oid in the `resumed` alert
-- (src/monitor/alert.rs: every payload carries it in 0.108.3).
DROP FUNCTION pgtrickle.resume_stream_table(text);
CREATE FUNCTION pgtrickle.resume_stream_table(name text) RETURNS void
LANGUAGE plpgsql STRICT SECURITY DEFINER AS $$
DECLARE
    st pgtrickle.pgt_stream_tables;
BEGIN
    st := pgtrickle._owned_stream_table(name);
    IF st.status NOT IN ('SUSPENDED', 'ERROR') THEN
        PERFORM pgtrickle._invalid(format('stream table %s.%s is not suspended or in error state (current status: %s)',
            st.pgt_schema, st.pgt_name, st.status));
    END IF;
    UPDATE pgtrickle.pgt_stream_tables
       SET status = 'ACTIVE', consecutive_errors = 0, last_error_message = NULL, last_error_at = NULL
     WHERE pgt_id = st.pgt_id;
    IF NOT st.pooler_compatibility_mode THEN
        PERFORM pg_notify('pg_trickle_alert', json_build_object(
            'event', 'resumed', 'database_oid',
            (SELECT d.oid::bigint FROM pg_database d WHERE d.datname = current_database()),
            'pgt_schema', st.pgt_schema, 'pgt_name', st.pgt_name,
            'st', st.pgt_schema || '.' || st.pgt_name, 'previous_status', 'SUSPENDED')::text);
    END IF;
    RAISE INFO 'Stream table %.% resumed (pgt_id=%)', st.pgt_schema, st.pgt_name, st.pgt_id;
END
$$;

ALTER FUNCTION pgtrickle.repair_stream_table(text) SET SCHEMA pgtrickle_v067;
CREATE FUNCTION pgtrickle.repair_stream_table(name text) RETURNS text
LANGUAGE plpgsql STRICT SECURITY DEFINER AS $$
BEGIN
    PERFORM pgtrickle._owned_stream_table(name);
    RETURN pgtrickle_v067.repair_stream_table(name);
END
$$;

-- src/api/alter.rs: reinitialize_stream_table is the repair under the name the
-- schema-evolution checks report.
CREATE FUNCTION pgtrickle.reinitialize_stream_table(name text) RETURNS text
LANGUAGE plpgsql STRICT SECURITY DEFINER AS $$
BEGIN
    RETURN pgtrickle.repair_stream_table(name);
END
$$;

-- src/api/alter.rs, pause_stream_table_impl: only ACTIVE tables; SUSPENDED plus the
-- reinitialize mark (needs_reinit with refresh_reason SCHEMA_CHANGED, as
-- StreamTableMeta::mark_for_reinitialize writes it), so the first refresh after resume is FULL.
CREATE FUNCTION pgtrickle.pause_stream_table(name text) RETURNS void
LANGUAGE plpgsql STRICT SECURITY DEFINER AS $$
DECLARE
    st pgtrickle.pgt_stream_tables;
BEGIN
    st := pgtrickle._owned_stream_table(name);
    IF st.status <> 'ACTIVE' THEN
        PERFORM pgtrickle._invalid(format(
            'stream table %s.%s is not ACTIVE (current status: %s); only ACTIVE stream tables can be paused',
            st.pgt_schema, st.pgt_name, st.status));
    END IF;
    UPDATE pgtrickle.pgt_stream_tables s
       SET status = 'SUSPENDED', needs_reinit = true, refresh_reason = 'SCHEMA_CHANGED',
           refresh_reason_detail = 'A catalog or source-definition change requires a FULL rebuild.'
     WHERE s.pgt_id = st.pgt_id;
    RAISE INFO 'Stream table %.% paused (pgt_id=%); use pgtrickle.resume_stream_table() to re-enable.',
        st.pgt_schema, st.pgt_name, st.pgt_id;
END
$$;

-- ---------------------------------------------------------------------------------------
-- Read functions whose result columns changed (sql/archive/pg_trickle--0.108.3.sql).
-- ---------------------------------------------------------------------------------------
DROP FUNCTION pgtrickle.get_refresh_history(text, integer);
-- Earlier 0.67.0 doubles returned SETOF this type; later ones RETURNS TABLE, as upstream.
DROP TYPE IF EXISTS pgtrickle.refresh_history_record;
CREATE FUNCTION pgtrickle.get_refresh_history(name text, max_rows integer DEFAULT 20)
RETURNS TABLE(refresh_id bigint, data_timestamp timestamptz, start_time timestamptz,
              end_time timestamptz, action text, status text, rows_inserted bigint,
              rows_updated bigint, rows_deleted bigint, duration_ms double precision,
              error_message text, refresh_reason text, refresh_reason_detail text)
LANGUAGE sql STABLE STRICT AS $$
    SELECT h.refresh_id, h.data_timestamp, h.start_time, h.end_time, h.action, h.status,
           h.rows_inserted, h.rows_updated, h.rows_deleted,
           coalesce(h.duration_ms, (extract(epoch FROM h.end_time - h.start_time) * 1000)::double precision),
           h.error_message, h.refresh_reason, h.refresh_reason_detail
    FROM pgtrickle.pgt_refresh_history h
    JOIN pgtrickle.pgt_stream_tables st ON st.pgt_id = h.pgt_id
    JOIN pgtrickle._parse_name($1, true) p ON p.nsp = st.pgt_schema AND p.rel = st.pgt_name
    ORDER BY h.refresh_id DESC
    LIMIT $2
$$;

DROP FUNCTION pgtrickle.refresh_timeline(integer);
CREATE FUNCTION pgtrickle.refresh_timeline(max_rows integer DEFAULT 50)
RETURNS TABLE(start_time timestamptz, stream_table text, action text, status text,
              rows_inserted bigint, rows_updated bigint, rows_deleted bigint,
              duration_ms double precision, error_message text)
LANGUAGE sql STABLE STRICT AS $$
    SELECT h.start_time, st.pgt_schema || '.' || st.pgt_name, h.action, h.status,
           h.rows_inserted, h.rows_updated, h.rows_deleted,
           coalesce(h.duration_ms, (extract(epoch FROM h.end_time - h.start_time) * 1000)::double precision),
           h.error_message
    FROM pgtrickle.pgt_refresh_history h JOIN pgtrickle.pgt_stream_tables st ON st.pgt_id = h.pgt_id
    ORDER BY h.refresh_id DESC
    LIMIT $1
$$;

-- src/monitor/mod.rs, st_refresh_stats (22 columns, total_rows_updated between inserted
-- and deleted).
CREATE FUNCTION pgtrickle.st_refresh_stats()
RETURNS TABLE(pgt_name text, pgt_schema text, status text, refresh_mode text, is_populated boolean,
              total_refreshes bigint, successful_refreshes bigint, failed_refreshes bigint,
              total_rows_inserted bigint, total_rows_updated bigint, total_rows_deleted bigint,
              avg_duration_ms double precision, last_refresh_action text, last_refresh_status text,
              last_refresh_at timestamptz, staleness_secs double precision, stale boolean,
              consecutive_errors integer, schedule text, refresh_tier text,
              last_error_message text, downstream_publication text)
LANGUAGE sql STABLE STRICT AS $$
    SELECT st.pgt_name, st.pgt_schema, st.status, st.refresh_mode, st.is_populated,
           coalesce(h.total, 0), coalesce(h.ok, 0), coalesce(h.failed, 0),
           coalesce(h.ins, 0), coalesce(h.upd, 0), coalesce(h.del, 0),
           coalesce(h.avg_ms, 0),
           last_h.action, last_h.status, st.last_refresh_at,
           extract(epoch FROM now() - st.last_refresh_at)::double precision,
           coalesce(pgtrickle._is_stale(st.schedule, st.last_refresh_at), false),
           st.consecutive_errors, st.schedule, st.refresh_tier, st.last_error_message,
           st.downstream_publication_name
    FROM pgtrickle.pgt_stream_tables st
    LEFT JOIN LATERAL (
        SELECT count(*) AS total,
               count(*) FILTER (WHERE hh.status = 'COMPLETED') AS ok,
               count(*) FILTER (WHERE hh.status = 'FAILED') AS failed,
               sum(hh.rows_inserted)::bigint AS ins, sum(hh.rows_updated)::bigint AS upd,
               sum(hh.rows_deleted)::bigint AS del,
               avg(hh.duration_ms)::double precision AS avg_ms
        FROM pgtrickle.pgt_refresh_history hh WHERE hh.pgt_id = st.pgt_id) h ON true
    LEFT JOIN LATERAL (
        SELECT hh.action, hh.status FROM pgtrickle.pgt_refresh_history hh
        WHERE hh.pgt_id = st.pgt_id ORDER BY hh.refresh_id DESC LIMIT 1) last_h ON true
    ORDER BY st.pgt_schema, st.pgt_name
$$;

-- src/api/diagnostics.rs, freshness (0.90.0): one row per table with an interval target.
-- The double records no commit-to-visible samples, so the percentiles are unknown.
CREATE FUNCTION pgtrickle.freshness()
RETURNS TABLE(stream_table text, target interval, p50 interval, p95 interval, p99 interval,
              status text)
LANGUAGE sql STABLE STRICT AS $$
    SELECT st.pgt_schema || '.' || st.pgt_name,
           make_interval(secs => st.freshness_deadline_ms / 1000.0),
           NULL::interval, NULL::interval, NULL::interval, 'INSUFFICIENT_DATA'
    FROM pgtrickle.pgt_stream_tables st
    WHERE st.target_freshness_mode = 'INTERVAL' AND st.freshness_deadline_ms IS NOT NULL
    ORDER BY st.pgt_schema, st.pgt_name
$$;

-- ---------------------------------------------------------------------------------------
-- Views (sql/archive/pg_trickle--0.108.3.sql): pg_stat_stream_tables gains
-- total_rows_updated between inserted and deleted; stream_tables_info is st.* again.
-- ---------------------------------------------------------------------------------------
CREATE VIEW pgtrickle.pg_stat_stream_tables AS
SELECT st.pgt_id,
       st.pgt_schema,
       st.pgt_name,
       st.status,
       st.refresh_mode,
       st.is_populated,
       st.data_timestamp,
       st.schedule,
       now() - st.last_refresh_at AS staleness,
       pgtrickle._is_stale(st.schedule, st.last_refresh_at) AS stale,
       st.consecutive_errors,
       st.needs_reinit,
       st.last_refresh_at,
       coalesce(h.total_refreshes, 0)::bigint AS total_refreshes,
       coalesce(h.successful_refreshes, 0)::bigint AS successful_refreshes,
       coalesce(h.failed_refreshes, 0)::bigint AS failed_refreshes,
       coalesce(h.total_rows_inserted, 0)::bigint AS total_rows_inserted,
       coalesce(h.total_rows_updated, 0)::bigint AS total_rows_updated,
       coalesce(h.total_rows_deleted, 0)::bigint AS total_rows_deleted,
       h.avg_duration_ms,
       last_h.action AS last_action,
       last_h.status AS last_status,
       (SELECT array_agg(DISTINCT d.cdc_mode ORDER BY d.cdc_mode)
          FROM pgtrickle.pgt_dependencies d
         WHERE d.pgt_id = st.pgt_id AND d.source_type = 'TABLE') AS cdc_modes,
       st.scc_id,
       st.last_fixpoint_iterations,
       st.refresh_tier
FROM pgtrickle.pgt_stream_tables st
LEFT JOIN LATERAL (
    SELECT count(*) AS total_refreshes,
           count(*) FILTER (WHERE hh.status = 'COMPLETED') AS successful_refreshes,
           count(*) FILTER (WHERE hh.status = 'FAILED') AS failed_refreshes,
           sum(hh.rows_inserted) AS total_rows_inserted,
           sum(hh.rows_updated) AS total_rows_updated,
           sum(hh.rows_deleted) AS total_rows_deleted,
           avg(extract(epoch FROM hh.end_time - hh.start_time) * 1000)
               FILTER (WHERE hh.end_time IS NOT NULL)::double precision AS avg_duration_ms
    FROM pgtrickle.pgt_refresh_history hh WHERE hh.pgt_id = st.pgt_id) h ON true
LEFT JOIN LATERAL (
    SELECT hh.action, hh.status FROM pgtrickle.pgt_refresh_history hh
    WHERE hh.pgt_id = st.pgt_id ORDER BY hh.refresh_id DESC LIMIT 1) last_h ON true;

CREATE VIEW pgtrickle.stream_tables_info AS
SELECT st.*,
       now() - st.last_refresh_at AS staleness,
       pgtrickle._is_stale(st.schedule, st.last_refresh_at) AS stale,
       st.topk_limit IS NOT NULL AS is_topk
FROM pgtrickle.pgt_stream_tables st;

-- ==== errors: typed errors, suspend reasons, freshness SLA, explain_alter ====
-- What the provider's retry decisions, health verdicts and plan classes read on 0.108.3.

-- src/api/release_096.rs, error_catalog (0.96.0): one row per refresh error code that has a
-- SQLSTATE of its own (CANCELLED and UNKNOWN_RETRYABLE have none). The double's wording.
CREATE FUNCTION pgtrickle.error_catalog()
RETURNS TABLE(error_id text, sqlstate text, detail text, hint text)
LANGUAGE sql STRICT STABLE AS $$
    VALUES
        ('LOCK_TIMEOUT', '55P03', 'The refresh did not get a lock it needs before lock_timeout.',
         'Wait for the competing transaction to finish, or raise lock_timeout.'),
        ('STATEMENT_TIMEOUT', '57014', 'The refresh ran past its statement deadline.',
         'Refresh less at a time, or raise statement_timeout for the refresh.'),
        ('DEADLOCK', '40P01', 'PostgreSQL aborted the refresh to break a deadlock.',
         'Retry; if it recurs, make writers take their locks in one order.'),
        ('SERIALIZATION', '40001', 'PostgreSQL aborted the refresh for serializable correctness.',
         'Retry; the committed source changes are kept.'),
        ('OUT_OF_MEMORY', '53200', 'The refresh ran out of PostgreSQL memory.',
         'Lower the pg_trickle memory budget or refresh less at a time.'),
        ('PERMANENT', 'XX000', 'The refresh failed for a condition a retry does not cure.',
         'Read the stream table''s error detail and fix its cause.')
$$;

-- Freshness controller state (0.90.0): one row per interval-targeted table, written by the
-- controller from exact commit-to-visible samples. The double has no controller: tests write
-- the row (as the controller would) and freshness() reports it, as upstream's does.
CREATE TABLE pgtrickle.pgt_freshness_controller_state (
    pgt_id bigint PRIMARY KEY REFERENCES pgtrickle.pgt_stream_tables (pgt_id) ON DELETE CASCADE,
    target_ms bigint NOT NULL CHECK (target_ms > 0),
    sample_count integer NOT NULL DEFAULT 0 CHECK (sample_count >= 0),
    p50_freshness_ms double precision,
    p95_freshness_ms double precision,
    p99_freshness_ms double precision,
    sla_status text NOT NULL DEFAULT 'INSUFFICIENT_DATA'
        CHECK (sla_status IN ('MEETING', 'AT_RISK', 'BREACHING', 'INFEASIBLE',
                              'INSUFFICIENT_DATA', 'EVIDENCE_UNAVAILABLE', 'NOT_APPLICABLE')),
    updated_at timestamptz NOT NULL DEFAULT now()
);
REVOKE ALL ON TABLE pgtrickle.pgt_freshness_controller_state FROM PUBLIC;

-- src/api/diagnostics.rs, freshness: the controller's status, INSUFFICIENT_DATA before it has
-- one (as pg_stat_pgtrickle's COALESCE), for every table with an interval target.
CREATE OR REPLACE FUNCTION pgtrickle.freshness()
RETURNS TABLE(stream_table text, target interval, p50 interval, p95 interval, p99 interval,
              status text)
LANGUAGE sql STABLE STRICT AS $$
    SELECT st.pgt_schema || '.' || st.pgt_name,
           make_interval(secs => st.freshness_deadline_ms / 1000.0),
           make_interval(secs => f.p50_freshness_ms / 1000.0),
           make_interval(secs => f.p95_freshness_ms / 1000.0),
           make_interval(secs => f.p99_freshness_ms / 1000.0),
           coalesce(f.sla_status, 'INSUFFICIENT_DATA')
    FROM pgtrickle.pgt_stream_tables st
    LEFT JOIN pgtrickle.pgt_freshness_controller_state f ON f.pgt_id = st.pgt_id
    WHERE st.target_freshness_mode = 'INTERVAL' AND st.freshness_deadline_ms IS NOT NULL
    ORDER BY st.pgt_schema, st.pgt_name
$$;

-- src/api/alter.rs, explain_alter (0.91.0): classify a defining-query change without
-- changing anything. compatible: the same query text over the same output columns and
-- sources (the only proof that all state is reusable); rebuildable: any other valid query;
-- rejected: a query the table cannot take (or an unknown table), as a row, never an error.
CREATE FUNCTION pgtrickle.explain_alter(name text, new_query text) RETURNS jsonb
LANGUAGE plpgsql STRICT AS $$
DECLARE
    p record;
    st pgtrickle.pgt_stream_tables;
    a record;
    old_cols text[];
    old_types text[];
    old_srcs oid[];
    class text;
    reason text;
    bytes bigint := 0;
    reusable boolean;
BEGIN
    BEGIN
        p := pgtrickle._parse_name(name);
        SELECT * INTO st FROM pgtrickle.pgt_stream_tables s
         WHERE s.pgt_schema = p.nsp AND s.pgt_name = p.rel;
        IF NOT FOUND THEN
            PERFORM pgtrickle._not_found(p.nsp, p.rel);
        END IF;
        a := pgtrickle._analyze_query(new_query, st.refresh_mode);
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS reason = MESSAGE_TEXT;
        IF to_regclass('pg_temp.__pgt_probe') IS NOT NULL THEN
            EXECUTE 'DROP VIEW pg_temp.__pgt_probe';
        END IF;
        RETURN jsonb_build_object(
            'stream_table', name, 'proposed_query', new_query, 'classification', 'rejected',
            'reason_code', 'ALTER_QUERY_REJECTED', 'reason', 'query parse error: ' || reason,
            'state_oracle', jsonb_build_object('materialized_result', false, 'frontier', false,
                                               'row_identity', false, 'auxiliary_state', false),
            'affected_state', jsonb_build_object('materialized_result', false, 'frontier', false,
                                                 'row_identity', false, 'auxiliary_state', false),
            'estimated_rebuild_bytes', 0);
    END;
    IF to_regclass('pg_temp.__pgt_probe') IS NOT NULL THEN
        EXECUTE 'DROP VIEW pg_temp.__pgt_probe';
    END IF;
    SELECT coalesce(array_agg(attname::text ORDER BY attnum), '{}'),
           coalesce(array_agg(format_type(atttypid, NULL) ORDER BY attnum), '{}')
      INTO old_cols, old_types
      FROM pg_attribute
     WHERE attrelid = st.pgt_relid AND attnum > 0 AND NOT attisdropped
       AND attname NOT LIKE '\_\_pgt\_%';
    SELECT coalesce(array_agg(d.source_relid ORDER BY d.source_relid), '{}') INTO old_srcs
      FROM pgtrickle.pgt_dependencies d WHERE d.pgt_id = st.pgt_id;
    bytes := coalesce(pg_total_relation_size(st.pgt_relid), 0);
    IF old_cols = a.col_names AND old_types = a.col_types
       AND old_srcs = (SELECT coalesce(array_agg(o ORDER BY o), '{}') FROM unnest(a.src_oids) o)
       AND btrim(st.defining_query) = btrim(a.defining_query) THEN
        class := 'compatible';
        reason := 'all four state components are proven reusable';
    ELSIF old_cols = a.col_names AND old_types = a.col_types THEN
        class := 'rebuildable';
        reason := 'the proposed query changes semantics or dependencies';
    ELSIF NOT EXISTS (SELECT 1 FROM unnest(a.col_names, a.col_types) n(c, t)
                      JOIN unnest(old_cols, old_types) o(c, t) ON o.c = n.c AND o.t <> n.t) THEN
        class := 'rebuildable';
        reason := format('output schema changed (%s added, %s removed)',
            (SELECT count(*) FROM unnest(a.col_names) c WHERE NOT c = ANY (old_cols)),
            (SELECT count(*) FROM unnest(old_cols) c WHERE NOT c = ANY (a.col_names)));
    ELSE
        class := 'rebuildable';
        reason := 'an output column changed type';
    END IF;
    reusable := class = 'compatible';
    RETURN jsonb_build_object(
        'stream_table', st.pgt_schema || '.' || st.pgt_name,
        'current_query', st.defining_query, 'proposed_query', new_query,
        'classification', class,
        'reason_code', CASE WHEN reusable THEN NULL ELSE 'ALTER_QUERY_REBUILD' END,
        'reason', reason,
        'state_oracle', jsonb_build_object('materialized_result', reusable, 'frontier', reusable,
                                           'row_identity', reusable, 'auxiliary_state', reusable),
        'affected_state', jsonb_build_object('materialized_result', NOT reusable,
                                             'frontier', NOT reusable, 'row_identity', NOT reusable,
                                             'auxiliary_state', NOT reusable),
        'estimated_rebuild_bytes', bytes);
END
$$;

-- Destructive source DDL (0.91.0, src/hooks.rs): with pg_trickle.block_source_ddl off, a
-- change that breaks what a stream table reads suspends it with a reason code in
-- refresh_reason (SOURCE_DESTRUCTIVE_SCHEMA) and marks it for reinitialize_stream_table.
-- With the setting on, upstream refuses the DDL; the double lets it through, as before. The
-- double sees a column the defining query reads disappear (renamed or dropped).
CREATE OR REPLACE FUNCTION pgtrickle._on_ddl_command_end() RETURNS event_trigger
LANGUAGE plpgsql AS $$
DECLARE
    cmd record;
    dep record;
BEGIN
    IF coalesce(current_setting('pg_trickle.block_source_ddl', true), 'on') <> 'off' THEN
        RETURN;
    END IF;
    FOR cmd IN SELECT * FROM pg_event_trigger_ddl_commands()
               WHERE command_tag = 'ALTER TABLE' AND object_type IN ('table', 'table column') LOOP
        FOR dep IN SELECT d.pgt_id, d.columns_used FROM pgtrickle.pgt_dependencies d
                    WHERE d.source_relid = cmd.objid AND d.source_type = 'TABLE' LOOP
            IF EXISTS (SELECT 1 FROM unnest(coalesce(dep.columns_used, '{}')) c
                        WHERE NOT EXISTS (SELECT 1 FROM pg_attribute a
                                           WHERE a.attrelid = cmd.objid AND a.attname = c
                                             AND a.attnum > 0 AND NOT a.attisdropped)) THEN
                UPDATE pgtrickle.pgt_stream_tables s
                   SET status = 'SUSPENDED', needs_reinit = true,
                       refresh_reason = 'SOURCE_DESTRUCTIVE_SCHEMA',
                       refresh_reason_detail = format(
                           'source %s lost a column the defining query reads; run pgtrickle.reinitialize_stream_table',
                           cmd.object_identity)
                 WHERE s.pgt_id = dep.pgt_id;
            END IF;
        END LOOP;
    END LOOP;
END
$$;

-- ==== events: alert payloads ====
-- pg_trickle src/monitor/alert.rs (0.108.3), build_alert_payload and reduce_alert_payload:
-- every payload carries `database_oid` (the sending database's OID, MyDatabaseId), the
-- event's own keys never override the base keys, and an oversized payload stays valid JSON:
-- `"truncated": true`, every string cut to 512 characters, then optional keys dropped (in key
-- order, named in `omitted_fields`) and strings cut to 128, 32, 8, 1 characters until it fits
-- 7,900 bytes; if nothing fits, only the base keys and `truncated`. The scheduler tick's alerts
-- (pgtrickle_test._alert) build their payload here. Internal: no grant (the revoke below
-- covers it); the tick runs as the superuser, like pg_trickle's scheduler.
CREATE FUNCTION pgtrickle._pgt_json_shrink(p jsonb, p_max integer) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    CASE jsonb_typeof(p)
    WHEN 'string' THEN
        RETURN to_jsonb(left(p #>> '{}', p_max));
    WHEN 'array' THEN
        RETURN coalesce((SELECT jsonb_agg(pgtrickle._pgt_json_shrink(a.v, p_max) ORDER BY a.o)
                         FROM jsonb_array_elements(p) WITH ORDINALITY a(v, o)), '[]');
    WHEN 'object' THEN
        RETURN coalesce((SELECT jsonb_object_agg(e.key, pgtrickle._pgt_json_shrink(e.value, p_max))
                         FROM jsonb_each(p) e), '{}');
    ELSE
        RETURN p;
    END CASE;
END
$$;

CREATE OR REPLACE FUNCTION pgtrickle._pgt_alert_payload(p_event text, p_schema text, p_name text, p_extra jsonb DEFAULT '{}')
RETURNS text
LANGUAGE plpgsql STABLE AS $$
DECLARE
    max_bytes constant integer := 7900;
    base constant text[] := ARRAY['event', 'database_oid', 'pgt_schema', 'pgt_name', 'st'];
    obj jsonb;
    k text;
    omitted text[] := '{}';
    lim integer;
BEGIN
    obj := coalesce((SELECT jsonb_object_agg(e.key, e.value) FROM jsonb_each(coalesce(p_extra, '{}')) e
                     WHERE e.key <> ALL (base)), '{}')
        || jsonb_build_object('event', p_event,
               'database_oid', (SELECT d.oid::bigint FROM pg_database d WHERE d.datname = current_database()),
               'pgt_schema', p_schema, 'pgt_name', p_name, 'st', p_schema || '.' || p_name);
    IF octet_length(pgtrickle._pgt_json_compact(obj)) <= max_bytes THEN
        RETURN pgtrickle._pgt_json_compact(obj);
    END IF;
    obj := pgtrickle._pgt_json_shrink(obj || '{"truncated": true}', 512);
    FOR k IN SELECT e.key FROM jsonb_each(obj) e
             WHERE e.key <> ALL (base || 'truncated'::text) ORDER BY e.key COLLATE "C"
    LOOP
        EXIT WHEN octet_length(pgtrickle._pgt_json_compact(obj)) <= max_bytes;
        obj := obj - k;
        omitted := omitted || left(k, 64);
    END LOOP;
    IF cardinality(omitted) > 0 THEN
        obj := obj || jsonb_build_object('omitted_fields', to_jsonb(omitted));
    END IF;
    FOREACH lim IN ARRAY ARRAY[128, 32, 8, 1] LOOP
        EXIT WHEN octet_length(pgtrickle._pgt_json_compact(obj)) <= max_bytes;
        obj := pgtrickle._pgt_json_shrink(obj, lim);
    END LOOP;
    IF octet_length(pgtrickle._pgt_json_compact(obj)) > max_bytes THEN
        obj := pgtrickle._pgt_json_shrink(obj || '{"omitted_fields": ["additional_fields"]}', 1);
    END IF;
    IF octet_length(pgtrickle._pgt_json_compact(obj)) <= max_bytes THEN
        RETURN pgtrickle._pgt_json_compact(obj);
    END IF;
    RETURN pgtrickle._pgt_json_compact(
        (SELECT jsonb_object_agg(e.key, e.value) FROM jsonb_each(obj) e WHERE e.key = ANY (base))
        || '{"truncated": true}');
END
$$;

-- ==== graph: external orchestration and strict graph refresh ====
-- pg_trickle 0.93.0 / 0.94.0 (src/api/integration.rs): durable refresh ownership per stream
-- table, versioned contracts for one table and for the upstream closure of a set of roots,
-- and refresh_graph_strict, which refreshes that closure in topological order inside the
-- caller's transaction. Errors carry upstream's stable identifier first in the message
-- (PGT_EXT_...); the digests are the double's own canonical SHA-256 (opaque to a client,
-- equal whenever the graph is unchanged), not upstream's byte encoding.
-- ---------------------------------------------------------------------------------------
CREATE SEQUENCE pgtrickle.pgt_graph_refresh_id_seq;

CREATE FUNCTION pgtrickle._integration_error(p_code text, p_detail text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION USING ERRCODE = '55000', MESSAGE = p_code || ': ' || p_detail;
END
$$;

-- StreamTableMeta::get_by_relid: a relation that is no stream table is "not found".
CREATE FUNCTION pgtrickle._st_by_relid(p_relid oid) RETURNS pgtrickle.pgt_stream_tables
LANGUAGE plpgsql AS $$
DECLARE
    st pgtrickle.pgt_stream_tables;
BEGIN
    SELECT * INTO st FROM pgtrickle.pgt_stream_tables s WHERE s.pgt_relid = p_relid;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = '42P01',
            MESSAGE = format('stream table not found: relation OID %s', p_relid);
    END IF;
    RETURN st;
END
$$;

-- set_orchestration_mode_for_meta: normalize, check ownership, lock the row, refuse
-- EXTERNAL + IMMEDIATE, write only a change (so contract_generation moves only then).
CREATE FUNCTION pgtrickle.set_orchestration_mode(stream_table regclass, mode text) RETURNS text
LANGUAGE plpgsql STRICT SECURITY DEFINER SET search_path TO pgtrickle, pg_catalog, pg_temp AS $$
DECLARE
    m text := upper(btrim(mode));
    st pgtrickle.pgt_stream_tables;
BEGIN
    IF m NOT IN ('MANAGED', 'EXTERNAL') THEN
        PERFORM pgtrickle._integration_error('PGT_EXT_ORCHESTRATION_MODE',
            format('invalid orchestration mode ''%s''; expected MANAGED or EXTERNAL', m));
    END IF;
    st := pgtrickle._st_by_relid(stream_table);
    PERFORM pgtrickle._check_owner(st);
    SELECT * INTO st FROM pgtrickle.pgt_stream_tables s WHERE s.pgt_id = st.pgt_id FOR UPDATE;
    IF m = 'EXTERNAL' AND st.refresh_mode = 'IMMEDIATE' THEN
        PERFORM pgtrickle._integration_error('PGT_EXT_ORCHESTRATION_MODE',
            'EXTERNAL orchestration cannot be combined with IMMEDIATE refresh mode');
    END IF;
    IF upper(st.orchestration_mode) <> m THEN
        UPDATE pgtrickle.pgt_stream_tables s SET orchestration_mode = m WHERE s.pgt_id = st.pgt_id;
    END IF;
    RETURN m;
END
$$;

CREATE FUNCTION pgtrickle.integration_capabilities()
RETURNS TABLE(capability text, major_version smallint, minor_version smallint, enabled boolean,
              details jsonb)
LANGUAGE sql STABLE AS $$
    VALUES
        ('external_graph_refresh'::text, 1::smallint, 1::smallint, true,
         jsonb_build_object('status', 'stable', 'enabled', true, 'phase', 'v0.104_conformance',
             'unavailable_reason', NULL, 'refresh_api', 'refresh_graph_strict',
             'max_graph_members', 1024, 'source_boundary', 'local_trigger_or_wal')),
        ('output_delta_consumer'::text, 1::smallint, 0::smallint, true,
         jsonb_build_object('status', 'stable', 'enabled', true, 'phase', 'v0.104_conformance',
             'graph_dependency', 'external_graph_refresh', 'typed_delta_encoding_version', 1))
$$;

-- relation_info + authorize_graph_member: the caller must own the member (or be superuser).
CREATE FUNCTION pgtrickle._authorize_graph_member(st pgtrickle.pgt_stream_tables) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF NOT pgtrickle._caller_is_superuser()
       AND NOT pg_has_role(pgtrickle._caller(),
                           coalesce((SELECT relowner FROM pg_class WHERE oid = st.pgt_relid), 10), 'USAGE') THEN
        RAISE EXCEPTION USING ERRCODE = '42501', MESSAGE =
            'permission denied: owner-equivalent authority is required for every graph member';
    END IF;
END
$$;

-- source_payload: one source as the contracts describe it; a TABLE source needs ownership or
-- SELECT and MAINTAIN with schema USAGE (authorize_graph_source).
CREATE FUNCTION pgtrickle._graph_source(p_dep pgtrickle.pgt_dependencies) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    c record;
    caller name := pgtrickle._caller();
BEGIN
    SELECT cl.oid, cl.relname::text AS name, n.nspname::text AS schema, cl.relkind::text AS relkind,
           cl.relpersistence::text AS persistence, cl.relowner, pg_get_userbyid(cl.relowner)::text AS owner,
           cl.relrowsecurity, cl.relforcerowsecurity, cl.relnamespace
      INTO c
      FROM pg_class cl JOIN pg_namespace n ON n.oid = cl.relnamespace
     WHERE cl.oid = p_dep.source_relid;
    IF NOT FOUND THEN
        PERFORM pgtrickle._integration_error('PGT_EXT_GRAPH_INVALID',
            format('relation OID %s does not exist', p_dep.source_relid));
    END IF;
    IF p_dep.source_type = 'TABLE' AND NOT pgtrickle._caller_is_superuser()
       AND NOT pg_has_role(caller, c.relowner, 'USAGE')
       AND NOT (has_table_privilege(caller, c.oid, 'SELECT') AND has_table_privilege(caller, c.oid, 'MAINTAIN')
                AND has_schema_privilege(caller, c.relnamespace, 'USAGE')) THEN
        RAISE EXCEPTION USING ERRCODE = '42501', MESSAGE = 'permission denied: owner-equivalent authority '
            'or SELECT and MAINTAIN privileges with schema USAGE are required for every graph source';
    END IF;
    RETURN jsonb_build_object(
        'source_relid', c.oid::bigint, 'source_type', p_dep.source_type,
        'identity', c.schema || '.' || c.name, 'schema', c.schema, 'name', c.name,
        'relkind', c.relkind, 'owner', c.owner, 'owner_oid', c.relowner::bigint,
        'cdc_mode', p_dep.cdc_mode, 'rls', c.relrowsecurity, 'force_rls', c.relforcerowsecurity);
END
$$;

-- build_stream_contract: what a coordinator pins for one stream table.
CREATE FUNCTION pgtrickle._stream_contract(st pgtrickle.pgt_stream_tables,
                                           OUT digest bytea, OUT contract jsonb)
LANGUAGE plpgsql AS $$
DECLARE
    rel record;
    srcs jsonb;
    outs jsonb;
    normalized text := regexp_replace(btrim(st.defining_query), '\s+', ' ', 'g');
    body jsonb;
BEGIN
    PERFORM pgtrickle._authorize_graph_member(st);
    SELECT cl.relname::text AS name, n.nspname::text AS schema, pg_get_userbyid(cl.relowner)::text AS owner,
           cl.relowner::bigint AS owner_oid, cl.relrowsecurity AS rls, cl.relforcerowsecurity AS force_rls
      INTO rel
      FROM pg_class cl JOIN pg_namespace n ON n.oid = cl.relnamespace WHERE cl.oid = st.pgt_relid;
    IF NOT FOUND THEN
        PERFORM pgtrickle._integration_error('PGT_EXT_GRAPH_INVALID',
            format('could not inspect stream-table relation OID %s', st.pgt_relid));
    END IF;
    SELECT coalesce(jsonb_agg(pgtrickle._graph_source(d) ORDER BY d.source_relid), '[]'::jsonb)
      INTO srcs FROM pgtrickle.pgt_dependencies d WHERE d.pgt_id = st.pgt_id;
    SELECT coalesce(jsonb_agg(jsonb_build_object('name', a.attname::text,
               'type', format_type(a.atttypid, a.atttypmod), 'nullable', NOT a.attnotnull)
               ORDER BY a.attnum), '[]'::jsonb)
      INTO outs FROM pg_attribute a
     WHERE a.attrelid = st.pgt_relid AND a.attnum > 0 AND NOT a.attisdropped
       AND left(a.attname::text, 6) <> '__pgt_';
    body := jsonb_build_object(
        'relation', jsonb_build_object('oid', st.pgt_relid::bigint, 'schema', rel.schema,
            'name', rel.name, 'owner', rel.owner, 'owner_oid', rel.owner_oid, 'rls', rel.rls,
            'force_rls', rel.force_rls),
        'query', jsonb_build_object('normalized', normalized,
            'normalized_digest', encode(sha256(convert_to(normalized, 'UTF8')), 'hex'),
            'original', coalesce(st.original_query, ''),
            'original_digest', encode(sha256(convert_to(coalesce(st.original_query, ''), 'UTF8')), 'hex'),
            'defining_search_path', st.defining_search_path),
        'output_schema', outs,
        'refresh_mode', st.refresh_mode,
        'orchestration_mode', st.orchestration_mode,
        'row_identity_version', st.row_identity_version,
        'row_probe_version', st.row_probe_version,
        'functions_used', to_jsonb(st.functions_used),
        'sources', srcs,
        'database_instance_id', 'uninitialized');
    digest := sha256(convert_to(body::text, 'UTF8'));
    contract := jsonb_build_object('contract_version', 1, 'contract_generation', st.contract_generation,
        'contract_digest', encode(digest, 'hex')) || body;
END
$$;

CREATE FUNCTION pgtrickle.stream_table_contract(stream_table regclass)
RETURNS TABLE(contract_version smallint, contract_generation bigint, contract_digest bytea, contract jsonb)
LANGUAGE plpgsql STRICT SECURITY DEFINER SET search_path TO pgtrickle, pg_catalog, pg_temp AS $$
DECLARE
    st pgtrickle.pgt_stream_tables := pgtrickle._st_by_relid(stream_table);
    c record;
BEGIN
    c := pgtrickle._stream_contract(st);
    contract_version := 1;
    contract_generation := st.contract_generation;
    contract_digest := c.digest;
    contract := c.contract;
    RETURN NEXT;
END
$$;

-- graph_contract_data: the closure of the roots over STREAM_TABLE dependencies; every member
-- must be EXTERNAL; the topological order takes the smallest ready OID first.
CREATE FUNCTION pgtrickle._graph_contract(p_roots regclass[],
                                          OUT digest bytea, OUT contract jsonb, OUT member_ids bigint[])
LANGUAGE plpgsql AS $$
DECLARE
    root_ids bigint[];
    pending bigint[];
    members bigint[] := '{}';
    ups bigint[] := '{}';
    downs bigint[] := '{}';
    rid bigint;
    st pgtrickle.pgt_stream_tables;
    d record;
    topo bigint[] := '{}';
    ready bigint[];
    nxt bigint;
    c record;
    member_json jsonb := '[]';
    member_digests jsonb := '[]';
    sources jsonb := '{}';
    edge_json jsonb;
    roots_json jsonb;
    body jsonb;
BEGIN
    IF coalesce(cardinality(p_roots), 0) = 0 THEN
        PERFORM pgtrickle._integration_error('PGT_EXT_GRAPH_INVALID', 'graph_contract requires at least one root');
    END IF;
    SELECT array_agg(DISTINCT r::oid::bigint ORDER BY r::oid::bigint) INTO root_ids FROM unnest(p_roots) r;
    IF cardinality(root_ids) <> cardinality(p_roots) THEN
        PERFORM pgtrickle._integration_error('PGT_EXT_GRAPH_INVALID', 'graph_contract rejects duplicate roots');
    END IF;
    pending := root_ids;
    WHILE cardinality(pending) > 0 LOOP
        rid := pending[cardinality(pending)];
        pending := pending[1:cardinality(pending) - 1];
        CONTINUE WHEN rid = ANY(members);
        st := pgtrickle._st_by_relid(rid::oid);
        IF upper(st.orchestration_mode) = 'MANAGED' THEN
            PERFORM pgtrickle._integration_error('PGT_EXT_ORCHESTRATION_MODE', format(
                'graph member %s.%s is MANAGED; set it to EXTERNAL first', st.pgt_schema, st.pgt_name));
        END IF;
        IF st.refresh_mode = 'IMMEDIATE' THEN
            PERFORM pgtrickle._integration_error('PGT_EXT_ORCHESTRATION_MODE',
                'EXTERNAL orchestration cannot be combined with IMMEDIATE refresh mode');
        END IF;
        FOR d IN SELECT dd.source_relid FROM pgtrickle.pgt_dependencies dd
                  WHERE dd.pgt_id = st.pgt_id AND dd.source_type = 'STREAM_TABLE' LOOP
            PERFORM pgtrickle._st_by_relid(d.source_relid);
            ups := ups || d.source_relid::bigint;
            downs := downs || rid;
            pending := pending || d.source_relid::bigint;
        END LOOP;
        members := members || rid;
    END LOOP;
    SELECT array_agg(m ORDER BY m) INTO members FROM unnest(members) m;
    -- Kahn's algorithm, smallest ready OID first.
    LOOP
        SELECT min(m) INTO nxt FROM unnest(members) m
         WHERE NOT m = ANY(topo)
           AND NOT EXISTS (SELECT 1 FROM unnest(ups, downs) e(upstream, downstream)
                            WHERE e.downstream = m AND NOT e.upstream = ANY(topo));
        EXIT WHEN nxt IS NULL;
        topo := topo || nxt;
    END LOOP;
    IF cardinality(topo) <> cardinality(members) THEN
        PERFORM pgtrickle._integration_error('PGT_EXT_GRAPH_CYCLE', 'graph members contain a dependency cycle');
    END IF;
    FOREACH rid IN ARRAY members LOOP
        st := pgtrickle._st_by_relid(rid::oid);
        c := pgtrickle._stream_contract(st);
        member_json := member_json || jsonb_build_object('oid', rid,
            'identity', st.pgt_schema || '.' || st.pgt_name,
            'contract_generation', st.contract_generation,
            'contract_digest', encode(c.digest, 'hex'),
            'orchestration_mode', st.orchestration_mode);
        SELECT sources || coalesce(jsonb_object_agg(s ->> 'source_relid', s), '{}')
          INTO sources FROM jsonb_array_elements(c.contract -> 'sources') s;
    END LOOP;
    SELECT coalesce(jsonb_agg(jsonb_build_object('upstream', e.upstream, 'downstream', e.downstream)
                              ORDER BY e.upstream, e.downstream), '[]')
      INTO edge_json FROM (SELECT DISTINCT upstream, downstream FROM unnest(ups, downs) x(upstream, downstream)) e;
    SELECT jsonb_agg(jsonb_build_object('oid', r, 'identity', s.pgt_schema || '.' || s.pgt_name) ORDER BY r)
      INTO roots_json FROM unnest(root_ids) r JOIN pgtrickle.pgt_stream_tables s ON s.pgt_relid = r::oid;
    body := jsonb_build_object('contract_version', 1, 'database_instance_id', 'uninitialized',
        'roots', roots_json, 'members', member_json, 'edges', edge_json,
        'topological_order', to_jsonb(topo),
        'sources', (SELECT coalesce(jsonb_agg(v ORDER BY (k)::bigint), '[]') FROM jsonb_each(sources) AS x(k, v)));
    digest := sha256(convert_to(body::text, 'UTF8'));
    contract := jsonb_build_object('graph_digest', encode(digest, 'hex')) || body;
    member_ids := topo;
END
$$;

CREATE FUNCTION pgtrickle.graph_contract(roots regclass[])
RETURNS TABLE(contract_version smallint, graph_digest bytea, contract jsonb)
LANGUAGE plpgsql STRICT SECURITY DEFINER SET search_path TO pgtrickle, pg_catalog, pg_temp AS $$
DECLARE
    g record;
BEGIN
    g := pgtrickle._graph_contract(roots);
    contract_version := 1;
    graph_digest := g.digest;
    contract := g.contract;
    RETURN NEXT;
END
$$;

-- refresh_graph_strict: check the digest, lock every member (advisory lock and catalog row,
-- waiting, in OID order), check the digest again, then refresh the members in topological
-- order through the manual refresh path. Nothing commits here: the caller's transaction
-- holds the graph's contents, history rows and frontiers, and any error rolls all of it
-- back. A busy member is waited for, never skipped with a notice.
CREATE FUNCTION pgtrickle.refresh_graph_strict(roots regclass[], expected_graph_digest bytea,
                                               full_policy text DEFAULT 'ALLOW')
RETURNS TABLE(contract_version smallint, graph_refresh_id bigint, graph_digest bytea,
              source_boundary jsonb, source_boundary_digest bytea, node_results jsonb)
LANGUAGE plpgsql STRICT SECURITY DEFINER SET search_path TO pgtrickle, pg_catalog, pg_temp AS $$
DECLARE
    policy text := upper(btrim(full_policy));
    g record;
    rid bigint;
    st pgtrickle.pgt_stream_tables;
    res record;
    bound text;
    boundary_sources jsonb;
    results jsonb := '{}';
    act text;
    prev_internal text;
BEGIN
    IF policy NOT IN ('ALLOW', 'ERROR') THEN
        PERFORM pgtrickle._integration_error('PGT_EXT_GRAPH_INVALID', 'full_policy must be ALLOW or ERROR');
    END IF;
    g := pgtrickle._graph_contract(roots);
    IF g.digest IS DISTINCT FROM expected_graph_digest THEN
        PERFORM pgtrickle._integration_error('PGT_EXT_CONTRACT_MISMATCH', 'graph contract changed after it was compiled');
    END IF;
    FOREACH rid IN ARRAY g.member_ids LOOP
        PERFORM pgtrickle._check_owner(pgtrickle._st_by_relid(rid::oid));
    END LOOP;
    FOR rid IN SELECT m FROM unnest(g.member_ids) m ORDER BY m LOOP
        st := pgtrickle._st_by_relid(rid::oid);
        PERFORM pg_advisory_xact_lock(st.pgt_id);
        PERFORM 1 FROM pgtrickle.pgt_stream_tables s WHERE s.pgt_id = st.pgt_id FOR UPDATE;
        IF NOT FOUND THEN
            PERFORM pgtrickle._integration_error('PGT_EXT_GRAPH_BUSY', 'graph member disappeared');
        END IF;
    END LOOP;
    g := pgtrickle._graph_contract(roots);
    IF g.digest IS DISTINCT FROM expected_graph_digest THEN
        PERFORM pgtrickle._integration_error('PGT_EXT_CONTRACT_MISMATCH',
            'graph contract changed while the graph locks were acquired');
    END IF;
    bound := pg_current_wal_lsn()::text;
    graph_refresh_id := nextval('pgtrickle.pgt_graph_refresh_id_seq');
    SELECT coalesce(jsonb_agg(s || jsonb_build_object('capture_mode', s -> 'cdc_mode',
               'completeness', 'PROVEN',
               'position', CASE WHEN s ->> 'source_type' = 'TABLE'
                   THEN jsonb_build_object('version', 1, 'kind', 'CDC_BOUND', 'token', bound)
                   ELSE jsonb_build_object('version', 1, 'kind', 'UPSTREAM_STREAM_TABLE_STATE',
                        'contract_generation', u.contract_generation, 'is_populated', u.is_populated) END)
               ORDER BY (s ->> 'source_relid')::bigint), '[]')
      INTO boundary_sources
      FROM jsonb_array_elements(g.contract -> 'sources') s
      LEFT JOIN pgtrickle.pgt_stream_tables u ON u.pgt_relid = (s ->> 'source_relid')::bigint::oid;
    source_boundary := jsonb_build_object('manifest_version', 1, 'graph_refresh_id', graph_refresh_id,
        'database_instance_id', g.contract -> 'database_instance_id', 'safe_bound', bound,
        'completeness', 'PROVEN', 'sources', boundary_sources);
    source_boundary_digest := sha256(convert_to(source_boundary::text, 'UTF8'));
    FOREACH rid IN ARRAY g.member_ids LOOP
        st := pgtrickle._st_by_relid(rid::oid);
        -- manual_requires_whole_query_full (src/api/refresh_ops.rs); TopK is allowed.
        IF policy = 'ERROR' AND st.topk_limit IS NULL
           AND (st.needs_reinit OR NOT st.is_populated OR st.frontier IS NULL OR st.frontier ? 'initial'
                OR st.refresh_mode IN ('FULL', 'IMMEDIATE')) THEN
            PERFORM pgtrickle._integration_error('PGT_EXT_FULL_POLICY',
                format('%s.%s requires a full refresh', st.pgt_schema, st.pgt_name));
        END IF;
        prev_internal := current_setting('pg_trickle.internal_refresh', true);
        -- The member's query runs under the search_path it was defined with (upstream:
        -- refresh::with_stream_owner and defining_search_path).
        PERFORM set_config('search_path', st.defining_search_path, true);
        res := pgtrickle._pgt_refresh(st.pgt_id, 'EXTERNAL_GRAPH');
        PERFORM set_config('search_path', 'pgtrickle, pg_catalog, pg_temp', true);
        PERFORM set_config('pg_trickle.internal_refresh', coalesce(prev_internal, ''), true);
        act := CASE WHEN st.needs_reinit AND st.topk_limit IS NULL THEN 'REINITIALIZE' ELSE res.action END;
        results := results || jsonb_build_object(rid::text, jsonb_build_object(
            'identity', st.pgt_schema || '.' || st.pgt_name,
            'result_class', CASE WHEN res.rows_inserted = 0 AND res.rows_deleted = 0 THEN 'NO_DATA' ELSE 'COMPLETED' END,
            'action', act, 'rows_inserted', res.rows_inserted, 'rows_updated', 0,
            'rows_deleted', res.rows_deleted, 'contract_generation', st.contract_generation));
    END LOOP;
    contract_version := 1;
    graph_digest := g.digest;
    node_results := results;
    RETURN NEXT;
END
$$;

-- The ACL block of sql/archive/pg_trickle--0.108.3.sql grants the contract and capability
-- functions to PUBLIC (each checks ownership itself); refresh_graph_strict and
-- set_orchestration_mode go to pgtrickle_operator here, so a least-privilege coordinator
-- needs no superuser. The privileges block below revokes from PUBLIC by schema, so these
-- grants are made there, through pgtrickle._graph_grants().
CREATE FUNCTION pgtrickle._graph_grants() RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    GRANT EXECUTE ON FUNCTION pgtrickle.integration_capabilities() TO PUBLIC;
    GRANT EXECUTE ON FUNCTION pgtrickle.stream_table_contract(regclass) TO PUBLIC;
    GRANT EXECUTE ON FUNCTION pgtrickle.graph_contract(regclass[]) TO PUBLIC;
    GRANT EXECUTE ON FUNCTION pgtrickle.set_orchestration_mode(regclass, text) TO pgtrickle_operator;
    GRANT EXECUTE ON FUNCTION pgtrickle.refresh_graph_strict(regclass[], bytea, text) TO pgtrickle_operator;
END
$$;

-- ---------------------------------------------------------------------------------------
-- Deny-first privileges (0.84.0) and predefined roles (0.96.0), as the ACL block at the end
-- of sql/archive/pg_trickle--0.108.3.sql: every function is revoked from PUBLIC, the
-- read-only diagnostics are granted back to PUBLIC, lifecycle functions go to the roles.
-- The catalog tables and views get no grant at all. The read functions run as the caller
-- (upstream's do), so a non-superuser needs SELECT on the tables they read; the lifecycle
-- functions are SECURITY DEFINER here.
-- Roles are cluster-wide and several databases install the extension: create them once.
-- ---------------------------------------------------------------------------------------
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'pgtrickle_reader') THEN
        CREATE ROLE pgtrickle_reader NOLOGIN NOINHERIT;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'pgtrickle_operator') THEN
        CREATE ROLE pgtrickle_operator NOLOGIN NOINHERIT;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'pgtrickle_admin') THEN
        CREATE ROLE pgtrickle_admin NOLOGIN NOINHERIT;
    END IF;
    IF NOT pg_has_role('pgtrickle_operator', 'pgtrickle_reader', 'MEMBER') THEN
        GRANT pgtrickle_reader TO pgtrickle_operator;
    END IF;
    IF NOT pg_has_role('pgtrickle_admin', 'pgtrickle_operator', 'MEMBER') THEN
        GRANT pgtrickle_operator TO pgtrickle_admin;
    END IF;
END
$$;

GRANT USAGE ON SCHEMA pgtrickle TO pgtrickle_reader, pgtrickle_operator, pgtrickle_admin;

REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA pgtrickle FROM PUBLIC;

DO $$
DECLARE
    f text;
BEGIN
    -- upstream's public_read class, where the double has the function
    FOREACH f IN ARRAY ARRAY[
        'pgtrickle.change_buffer_sizes()', 'pgtrickle.check_cdc_health()',
        'pgtrickle.dependency_tree()', 'pgtrickle.explain_refresh_mode(text)',
        'pgtrickle.export_definition(text)', 'pgtrickle.freshness()', 'pgtrickle.fuse_status()',
        'pgtrickle.get_refresh_history(text, integer)', 'pgtrickle.get_staleness(text)',
        'pgtrickle.health_check()', 'pgtrickle.health_summary()', 'pgtrickle.is_drained()',
        'pgtrickle.list_sources(text)', 'pgtrickle.parse_duration_seconds(text)',
        'pgtrickle.pgt_status()', 'pgtrickle.st_refresh_stats()',
        'pgtrickle.stream_table_definition(text)', 'pgtrickle.stream_table_spec(oid)',
        'pgtrickle.stream_table_spec(text)', 'pgtrickle.version()', 'pgtrickle.version_check()']
    LOOP
        IF to_regprocedure(f) IS NOT NULL THEN
            EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO PUBLIC', f);
            -- any SET clause keeps the planner from inlining them (upstream's are C
            -- functions, called once per statement, never inlined); a setting of the
            -- double's own, so they still run under the caller's search_path (a regclass
            -- prints as the caller sees it, as upstream's do)
            EXECUTE format('ALTER FUNCTION %s SET pgtrickle_double.not_inlined = on', f);
        END IF;
    END LOOP;
    -- They run as the caller, as upstream's (plain C functions whose SPI reads of the
    -- catalog are checked against the caller: src/api/diagnostics.rs pgt_status,
    -- src/monitor/mod.rs): a caller needs SELECT on the tables each one reads. The SQL
    -- helpers they call stand for upstream's Rust internals, so the caller may run them.
    FOR f IN
        SELECT p.oid::regprocedure::text FROM pg_catalog.pg_proc p
        WHERE p.pronamespace = 'pgtrickle'::regnamespace
          AND p.proname IN ('_parse_name', '_parse_duration', '_is_stale', '_spec_of',
                            '_pgt_full_query')
    LOOP
        EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO PUBLIC', f);
    END LOOP;
    -- owner_lifecycle functions granted to the operator role
    FOREACH f IN ARRAY ARRAY[
        'pgtrickle.refresh_stream_table(text)', 'pgtrickle.refresh_if_stale(text, interval)',
        'pgtrickle.pause_stream_table(text)', 'pgtrickle.resume_stream_table(text)',
        'pgtrickle.repair_stream_table(text)', 'pgtrickle.reinitialize_stream_table(text)',
        'pgtrickle.drain(integer)']
    LOOP
        EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO pgtrickle_operator', f);
        EXECUTE format('ALTER FUNCTION %s SECURITY DEFINER', f);
    END LOOP;
    -- ... and to the admin role
    FOREACH f IN ARRAY ARRAY[
        'pgtrickle.create_stream_table(text, text, text, text, boolean, text, text, text, boolean, '
            'boolean, text, integer, double precision, text, boolean, text, integer, text, text)',
        'pgtrickle.alter_stream_table(text, text, text, text, text, text, text, text, boolean, '
            'boolean, text, text, bigint, integer, text, integer, double precision, text, '
            'double precision, text)',
        'pgtrickle.drop_stream_table(text, boolean)']
    LOOP
        EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO pgtrickle_admin', f);
        EXECUTE format('ALTER FUNCTION %s SECURITY DEFINER', f);
    END LOOP;
    -- the other owner_lifecycle functions: no grant, but they must reach the catalog when an
    -- owner who was granted them calls them
    FOREACH f IN ARRAY ARRAY[
        'pgtrickle.bulk_create(jsonb)', 'pgtrickle.reset_fuse(text, text)',
        'pgtrickle.write_and_refresh(text, text)', 'pgtrickle.refresh_timeline(integer)']
    LOOP
        IF to_regprocedure(f) IS NOT NULL THEN
            EXECUTE format('ALTER FUNCTION %s SECURITY DEFINER', f);
        END IF;
    END LOOP;
END
$$;

-- DDL on any table fires these: they must read the catalog whoever runs the DDL (upstream's
-- are SECURITY DEFINER too).
ALTER FUNCTION pgtrickle._on_sql_drop() SECURITY DEFINER;
ALTER FUNCTION pgtrickle._on_ddl_command_end() SECURITY DEFINER;

-- graph: the integration functions' grants (see pgtrickle._graph_grants), after the
-- schema-wide REVOKE above.
SELECT pgtrickle._graph_grants();
DROP FUNCTION pgtrickle._graph_grants();

-- ==== errors: grants ====
-- After the deny-first block, which revokes every function from PUBLIC: upstream's
-- public_read class has these (sql/archive/pg_trickle--0.108.3.sql), error_catalog also goes
-- to pgtrickle_reader, and the read functions reach the catalog as its owner.
GRANT EXECUTE ON FUNCTION pgtrickle.error_catalog() TO PUBLIC, pgtrickle_reader;
GRANT EXECUTE ON FUNCTION pgtrickle.explain_alter(text, text) TO PUBLIC;
ALTER FUNCTION pgtrickle.explain_alter(text, text) SECURITY DEFINER;
