-- pg_trickle 0.67.0 TEST DOUBLE (airflow-provider-pgtrickle).
-- A plain SQL / PL/pgSQL re-implementation of the client-visible surface of pg_trickle 0.67.0
-- (see docs/pg_trickle-contract.md and upstream grove/pg-trickle v0.67.0). There is no incremental engine: every refresh
-- recomputes the defining query and writes the difference into the storage table. There is no
-- background scheduler; the separate extension pg_trickle_test offers a synchronous tick.

\echo Use "CREATE EXTENSION pg_trickle" to load this file. \quit

CREATE SCHEMA pgtrickle;
CREATE SCHEMA pgtrickle_changes;
REVOKE ALL ON SCHEMA pgtrickle_changes FROM PUBLIC;

-- ---------------------------------------------------------------------------------------
-- catalog (pg_trickle sql/archive/pg_trickle--0.67.0.sql, pgt_stream_tables)
-- ---------------------------------------------------------------------------------------
CREATE TABLE pgtrickle.pgt_stream_tables (
    pgt_id bigserial PRIMARY KEY,
    pgt_relid oid NOT NULL UNIQUE,
    pgt_name text NOT NULL,
    pgt_schema text NOT NULL,
    defining_query text NOT NULL,
    original_query text,
    schedule text,
    refresh_mode text NOT NULL DEFAULT 'DIFFERENTIAL'
        CONSTRAINT pgt_stream_tables_refresh_mode_check
        CHECK (refresh_mode IN ('FULL', 'DIFFERENTIAL', 'IMMEDIATE')),
    status text NOT NULL DEFAULT 'INITIALIZING'
        CONSTRAINT pgt_stream_tables_status_check
        CHECK (status IN ('INITIALIZING', 'ACTIVE', 'SUSPENDED', 'ERROR')),
    is_populated boolean NOT NULL DEFAULT false,
    data_timestamp timestamptz,
    frontier jsonb,
    last_refresh_at timestamptz,
    consecutive_errors integer NOT NULL DEFAULT 0,
    needs_reinit boolean NOT NULL DEFAULT false,
    auto_threshold double precision,
    last_full_ms double precision,
    functions_used text[],
    topk_limit integer,
    topk_order_by text,
    topk_offset integer,
    diamond_consistency text NOT NULL DEFAULT 'atomic'
        CONSTRAINT pgt_stream_tables_diamond_consistency_check
        CHECK (diamond_consistency IN ('none', 'atomic')),
    diamond_schedule_policy text NOT NULL DEFAULT 'fastest'
        CONSTRAINT pgt_stream_tables_diamond_schedule_policy_check
        CHECK (diamond_schedule_policy IN ('fastest', 'slowest')),
    has_keyless_source boolean NOT NULL DEFAULT false,
    function_hashes text,
    requested_cdc_mode text
        CONSTRAINT pgt_stream_tables_requested_cdc_mode_check
        CHECK (requested_cdc_mode IN ('auto', 'trigger', 'wal')),
    is_append_only boolean NOT NULL DEFAULT false,
    scc_id integer,
    last_fixpoint_iterations integer,
    max_differential_joins integer,
    max_delta_fraction double precision,
    pooler_compatibility_mode boolean NOT NULL DEFAULT false,
    refresh_tier text NOT NULL DEFAULT 'hot'
        CONSTRAINT pgt_stream_tables_refresh_tier_check
        CHECK (refresh_tier IN ('hot', 'warm', 'cold', 'frozen')),
    effective_refresh_mode text,
    fuse_mode text NOT NULL DEFAULT 'off'
        CONSTRAINT pgt_stream_tables_fuse_mode_check CHECK (fuse_mode IN ('off', 'on', 'auto')),
    fuse_state text NOT NULL DEFAULT 'armed'
        CONSTRAINT pgt_stream_tables_fuse_state_check
        CHECK (fuse_state IN ('armed', 'blown', 'disabled')),
    fuse_ceiling bigint,
    fuse_sensitivity integer,
    blown_at timestamptz,
    blow_reason text,
    last_error_message text,
    last_error_at timestamptz,
    downstream_publication_name text,
    freshness_deadline_ms bigint,
    st_partition_key text,
    st_placement text NOT NULL DEFAULT 'local',
    temporal_mode boolean NOT NULL DEFAULT false,
    storage_backend text NOT NULL DEFAULT 'heap',
    post_refresh_action text NOT NULL DEFAULT 'none'
        CONSTRAINT pgt_stream_tables_post_refresh_action_check
        CHECK (post_refresh_action IN ('none', 'analyze', 'reindex', 'reindex_if_drift')),
    reindex_drift_threshold double precision
        CONSTRAINT pgt_stream_tables_reindex_drift_threshold_check
        CHECK (reindex_drift_threshold > 0 AND reindex_drift_threshold <= 1),
    rows_changed_since_last_reindex bigint NOT NULL DEFAULT 0,
    last_reindex_at timestamptz,
    column_lineage jsonb,
    defining_query_hash bigint NOT NULL DEFAULT 0,
    ducklake_compaction_policy text,
    ducklake_sink_mode text,
    ducklake_sink_path text,
    ducklake_sink_table_id bigint,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX pgt_stream_tables_schema_name_idx
    ON pgtrickle.pgt_stream_tables (pgt_schema, pgt_name);
CREATE INDEX pgt_stream_tables_status_idx ON pgtrickle.pgt_stream_tables (status);

CREATE FUNCTION pgtrickle._pgt_touch_updated_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END
$$;
CREATE TRIGGER pgt_stream_tables_updated_at BEFORE UPDATE ON pgtrickle.pgt_stream_tables
    FOR EACH ROW EXECUTE FUNCTION pgtrickle._pgt_touch_updated_at();

-- pgt_dependencies (pg_trickle sql/archive/pg_trickle--0.67.0.sql)
CREATE TABLE pgtrickle.pgt_dependencies (
    pgt_id bigint NOT NULL REFERENCES pgtrickle.pgt_stream_tables (pgt_id) ON DELETE CASCADE,
    source_relid oid NOT NULL,
    source_type text NOT NULL
        CONSTRAINT pgt_dependencies_source_type_check
        CHECK (source_type IN ('TABLE', 'STREAM_TABLE', 'VIEW', 'MATVIEW', 'FOREIGN_TABLE')),
    columns_used text[],
    column_snapshot jsonb,
    schema_fingerprint text,
    cdc_mode text NOT NULL DEFAULT 'TRIGGER'
        CONSTRAINT pgt_dependencies_cdc_mode_check
        CHECK (cdc_mode IN ('TRIGGER', 'TRANSITIONING', 'WAL', 'DUCKLAKE_CHANGE_FEED')),
    slot_name text,
    decoder_confirmed_lsn pg_lsn,
    transition_started_at timestamptz,
    source_stable_name text,
    source_placement text NOT NULL DEFAULT 'local',
    PRIMARY KEY (pgt_id, source_relid)
);
CREATE INDEX pgt_dependencies_source_idx ON pgtrickle.pgt_dependencies (source_relid);

-- pgt_refresh_history (pg_trickle sql/archive/pg_trickle--0.67.0.sql)
CREATE TABLE pgtrickle.pgt_refresh_history (
    refresh_id bigserial PRIMARY KEY,
    pgt_id bigint NOT NULL REFERENCES pgtrickle.pgt_stream_tables (pgt_id) ON DELETE CASCADE,
    data_timestamp timestamptz NOT NULL,
    start_time timestamptz NOT NULL,
    end_time timestamptz,
    action text NOT NULL
        CONSTRAINT pgt_refresh_history_action_check
        CHECK (action IN ('NO_DATA', 'FULL', 'DIFFERENTIAL', 'REINITIALIZE', 'SKIP')),
    rows_inserted bigint DEFAULT 0,
    rows_deleted bigint DEFAULT 0,
    delta_row_count bigint DEFAULT 0,
    merge_strategy_used text,
    was_full_fallback boolean NOT NULL DEFAULT false,
    error_message text,
    status text NOT NULL
        CONSTRAINT pgt_refresh_history_status_check
        CHECK (status IN ('RUNNING', 'COMPLETED', 'FAILED', 'SKIPPED')),
    initiated_by text
        CONSTRAINT pgt_refresh_history_initiated_by_check
        CHECK (initiated_by IN ('SCHEDULER', 'MANUAL', 'INITIAL', 'SELF_MONITOR')),
    freshness_deadline timestamptz,
    tick_watermark_lsn pg_lsn,
    fixpoint_iteration integer
);
CREATE INDEX pgt_refresh_history_pgt_id_idx ON pgtrickle.pgt_refresh_history (pgt_id, refresh_id);
-- As the install script's idx_hist_pgt_start: the health rules read the latest completed
-- refresh by (pgt_id, start_time).
CREATE INDEX idx_hist_pgt_start ON pgtrickle.pgt_refresh_history (pgt_id, start_time);

-- minor catalog tables of pg_trickle sql/archive/pg_trickle--0.67.0.sql (present for completeness; the double does not use them)
CREATE TABLE pgtrickle.pgt_refresh_groups (
    group_id bigserial PRIMARY KEY, group_name text NOT NULL UNIQUE,
    member_pgt_ids bigint[] NOT NULL DEFAULT '{}', created_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE pgtrickle.pgt_change_tracking (
    source_relid oid PRIMARY KEY, slot_name text, last_consumed_lsn pg_lsn,
    tracked_by_pgt_ids bigint[] NOT NULL DEFAULT '{}');
CREATE TABLE pgtrickle.pgt_scheduler_jobs (
    job_id bigserial PRIMARY KEY, pgt_id bigint, status text NOT NULL DEFAULT 'QUEUED',
    enqueued_at timestamptz NOT NULL DEFAULT now(), started_at timestamptz,
    finished_at timestamptz, worker_pid integer, error_message text);
CREATE TABLE pgtrickle.pgt_source_gates (
    source_relid oid PRIMARY KEY, gated boolean NOT NULL DEFAULT true,
    gated_at timestamptz NOT NULL DEFAULT now(), gated_by text);
CREATE TABLE pgtrickle.pgt_watermarks (
    source_relid oid PRIMARY KEY, watermark text, updated_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE pgtrickle.pgt_watermark_groups (
    group_name text PRIMARY KEY, source_relids oid[] NOT NULL DEFAULT '{}',
    tolerance_secs double precision);
CREATE TABLE pgtrickle.pgt_schema_version (
    version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now(), description text);
INSERT INTO pgtrickle.pgt_schema_version (version, description) VALUES ('0.19.0', 'initial');
CREATE TABLE pgtrickle.pgt_st_locks (
    pgt_id bigint PRIMARY KEY, locked_by integer, locked_at timestamptz);
CREATE TABLE pgtrickle.pgt_worker_slots (
    slot_id integer PRIMARY KEY, pid integer, pgt_id bigint, started_at timestamptz);
CREATE UNLOGGED TABLE pgtrickle.pgt_template_cache (
    pgt_id bigint PRIMARY KEY, template text, cached_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE pgtrickle.pgt_ducklake_provenance (
    pgt_id bigint PRIMARY KEY, snapshot_id bigint, recorded_at timestamptz);
CREATE TABLE pgtrickle.pgt_distance_subscriptions (
    subscription_id bigserial PRIMARY KEY, pgt_id bigint, channel text);
CREATE TABLE pgtrickle.pgt_outbox_config (
    pgt_id bigint PRIMARY KEY, outbox_table text, enabled boolean NOT NULL DEFAULT false);

-- The double's change "buffers": one pending-row counter per (stream table, source).
CREATE TABLE pgtrickle_changes.pgt_pending (
    pgt_id bigint NOT NULL REFERENCES pgtrickle.pgt_stream_tables (pgt_id) ON DELETE CASCADE,
    source_relid oid NOT NULL,
    pending_rows bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (pgt_id, source_relid)
);
CREATE INDEX pgt_pending_source_idx ON pgtrickle_changes.pgt_pending (source_relid);

-- ---------------------------------------------------------------------------------------
-- version / small helpers
-- ---------------------------------------------------------------------------------------
CREATE FUNCTION pgtrickle.version() RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT '0.67.0'::text $$;

CREATE FUNCTION pgtrickle.version_check() RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    ext text := (SELECT extversion FROM pg_catalog.pg_extension WHERE extname = 'pg_trickle');
    lib text := pgtrickle.version();
BEGIN
    -- Text built as pg_trickle src/api/diagnostics.rs, version_check builds it (compact,
    -- this key order, pg_version = version()).
    IF ext IS DISTINCT FROM lib THEN
        RAISE WARNING 'pg_trickle: version mismatch — library (.so) is % but SQL extension is %. Restart PostgreSQL after ALTER EXTENSION pg_trickle UPDATE to load the new library.',
            lib, coalesce(ext, 'unknown');
    END IF;
    RETURN format('{"library_version":"%s","extension_version":"%s","pg_version":"%s","version_match":%s}',
        lib, coalesce(ext, 'unknown'), replace(version(), '"', '\"'),
        (coalesce(ext, 'unknown') = lib)::text);
END
$$;

CREATE FUNCTION pgtrickle._signal_launcher_rescan() RETURNS void
LANGUAGE sql AS $$ SELECT $$;

-- Error helper: every pg_trickle "invalid argument:" error is SQLSTATE 22023.
CREATE FUNCTION pgtrickle._invalid(msg text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION USING MESSAGE = 'invalid argument: ' || msg, ERRCODE = '22023';
END
$$;

-- "schema.name" → (schema, name), splitting at the first dot only (pg_trickle src/api/helpers.rs, parse_qualified_name).
CREATE FUNCTION pgtrickle._parse_name(p_name text, p_default_public boolean DEFAULT false,
                                      OUT nsp text, OUT rel text)
LANGUAGE plpgsql STABLE AS $$
DECLARE
    pos integer := position('.' IN p_name);
BEGIN
    IF pos > 0 THEN
        nsp := substr(p_name, 1, pos - 1);
        rel := substr(p_name, pos + 1);
    ELSE
        nsp := CASE WHEN p_default_public THEN 'public' ELSE coalesce(current_schema(), 'public') END;
        rel := p_name;
    END IF;
END
$$;

CREATE FUNCTION pgtrickle._not_found(p_schema text, p_name text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION USING MESSAGE = format('stream table not found: %s.%s', p_schema, p_name),
        ERRCODE = '42P01';
END
$$;

-- Duration parser shared by parse_duration_seconds (NULL on error) and schedule validation.
CREATE FUNCTION pgtrickle._parse_duration(p_text text, OUT seconds bigint, OUT err text)
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    i integer;
    c text;
    digits text := '';
    total bigint := 0;
    mult bigint;
BEGIN
    IF p_text ~ '^[0-9]+$' THEN
        seconds := p_text::bigint;
        RETURN;
    END IF;
    FOR i IN 1 .. length(p_text) LOOP
        c := substr(p_text, i, 1);
        IF c ~ '[0-9]' THEN
            digits := digits || c;
        ELSE
            mult := CASE c WHEN 's' THEN 1 WHEN 'm' THEN 60 WHEN 'h' THEN 3600
                           WHEN 'd' THEN 86400 WHEN 'w' THEN 604800 END;
            IF mult IS NULL THEN
                err := format('invalid duration unit ''%s'' in ''%s''. Use s (seconds), m (minutes), h (hours), d (days), w (weeks). Example: ''5m'', ''1h30m'', ''2d''', c, p_text);
                RETURN;
            END IF;
            IF digits = '' THEN
                err := format('expected a number before ''%s'' in duration ''%s''', c, p_text);
                RETURN;
            END IF;
            total := total + digits::bigint * mult;
            digits := '';
        END IF;
    END LOOP;
    IF digits <> '' THEN
        err := format('trailing digits ''%s'' without a unit in duration ''%s''. Append s, m, h, d, or w. Example: ''1h30m''', digits, p_text);
        RETURN;
    END IF;
    seconds := total;
END
$$;

CREATE FUNCTION pgtrickle.parse_duration_seconds(text) RETURNS bigint
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT CASE WHEN d.err IS NULL THEN d.seconds END
    FROM pgtrickle._parse_duration($1) d
    WHERE $1 <> '' AND $1 !~ '[ @]'
$$;

-- Validates a schedule (pg_trickle src/api/helpers.rs, parse_schedule); returns the value to store (NULL = CALCULATED).
CREATE FUNCTION pgtrickle._validate_schedule(p_schedule text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    t text := btrim(p_schedule, E' \t\r\n');
    d record;
    fields text[];
    f text;
    min_s bigint := coalesce(nullif(current_setting('pg_trickle.min_schedule_seconds', true), '')::bigint, 1);
BEGIN
    IF p_schedule IS NULL THEN
        PERFORM pgtrickle._invalid('use ''calculated'' instead of NULL to set CALCULATED schedule');
    END IF;
    IF t = '' THEN
        PERFORM pgtrickle._invalid('schedule cannot be empty');
    END IF;
    IF lower(t) = 'calculated' THEN
        RETURN NULL;
    END IF;
    IF left(t, 1) = '@' THEN
        IF lower(t) NOT IN ('@hourly', '@daily', '@weekly', '@monthly', '@yearly', '@annually', '@midnight') THEN
            PERFORM pgtrickle._invalid(format('invalid cron expression ''%s'': unknown alias ''%s''', t, t));
        END IF;
        RETURN t;
    END IF;
    IF t ~ '\s' THEN
        fields := regexp_split_to_array(t, '\s+');
        IF array_length(fields, 1) NOT IN (5, 6) THEN
            PERFORM pgtrickle._invalid(format('invalid cron expression ''%s'': expected 5 or 6 fields, got %s', t, array_length(fields, 1)));
        END IF;
        f := pgtrickle._cron_error(t);
        IF f IS NOT NULL THEN
            PERFORM pgtrickle._invalid(format('invalid cron expression ''%s'': %s', t, f));
        END IF;
        RETURN t;
    END IF;
    d := pgtrickle._parse_duration(t);
    IF d.err IS NOT NULL THEN
        PERFORM pgtrickle._invalid(d.err);
    END IF;
    IF d.seconds < min_s THEN
        PERFORM pgtrickle._invalid(format('schedule must be at least %ss, got %ss', min_s, d.seconds));
    END IF;
    RETURN t;
END
$$;

-- AUTO / INCREMENTAL / DIFFERENTIAL / FULL / IMMEDIATE → stored word (pg_trickle src/dag.rs, RefreshMode::from_str).
CREATE FUNCTION pgtrickle._normalize_mode(p_mode text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    m text := upper(btrim(coalesce(p_mode, 'AUTO')));
BEGIN
    IF m IN ('AUTO', 'DIFFERENTIAL', 'INCREMENTAL') THEN
        RETURN 'DIFFERENTIAL';
    ELSIF m IN ('FULL', 'IMMEDIATE') THEN
        RETURN m;
    END IF;
    PERFORM pgtrickle._invalid(format('unknown refresh mode: %s. Must be ''AUTO'', ''FULL'', ''DIFFERENTIAL'', or ''IMMEDIATE''', m));
    RETURN NULL;
END
$$;

CREATE FUNCTION pgtrickle._normalize_diamond(p_consistency text, p_policy text,
                                             OUT consistency text, OUT policy text)
LANGUAGE plpgsql AS $$
BEGIN
    consistency := lower(btrim(coalesce(p_consistency, 'atomic')));
    IF consistency NOT IN ('none', 'atomic') THEN
        PERFORM pgtrickle._invalid(format('invalid diamond_consistency value: ''%s'' (expected ''none'' or ''atomic'')', p_consistency));
    END IF;
    policy := lower(btrim(coalesce(p_policy, 'fastest')));
    IF policy NOT IN ('fastest', 'slowest') THEN
        PERFORM pgtrickle._invalid(format('invalid diamond_schedule_policy value: ''%s'' (expected ''fastest'' or ''slowest'')', p_policy));
    END IF;
    IF policy = 'slowest' AND consistency <> 'atomic' THEN
        PERFORM pgtrickle._invalid('diamond_schedule_policy = ''slowest'' requires diamond_consistency = ''atomic''. The ''slowest'' policy is only meaningful when atomic cross-branch reads are enabled. Set diamond_consistency = ''atomic'' or use diamond_schedule_policy = ''fastest''.');
    END IF;
END
$$;

CREATE FUNCTION pgtrickle._normalize_cdc_mode(p_cdc text, p_mode text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    c text := lower(btrim(p_cdc));
BEGIN
    IF p_cdc IS NULL THEN
        RETURN NULL;
    END IF;
    IF c NOT IN ('auto', 'trigger', 'wal') THEN
        -- The value is printed trimmed and lower-cased (normalize_requested_cdc_mode).
        PERFORM pgtrickle._invalid(format('invalid cdc_mode value: ''%s'' (expected ''auto'', ''trigger'', or ''wal'')', c));
    END IF;
    IF c = 'wal' AND p_mode = 'IMMEDIATE' THEN
        PERFORM pgtrickle._invalid('refresh_mode = ''IMMEDIATE'' is incompatible with cdc_mode = ''wal''. IMMEDIATE uses in-transaction IVM triggers; WAL-based CDC is async. Use cdc_mode = ''trigger'' or ''auto'', or choose a deferred refresh_mode.');
    END IF;
    -- pg_trickle src/api/mod.rs, validate_requested_cdc_mode_requirements, through
    -- src/cdc/rebuild.rs, can_use_logical_replication_for_mode: without logical WAL the check
    -- itself fails (its own text, naming the GUC); with it, only a missing free slot refuses.
    IF c = 'wal' AND current_setting('wal_level') <> 'logical' THEN
        PERFORM pgtrickle._invalid('pg_trickle.cdc_mode = ''wal'' requires wal_level = logical');
    END IF;
    IF c = 'wal' AND current_setting('max_replication_slots')::bigint
                     - (SELECT count(*) FROM pg_replication_slots) <= 0 THEN
        PERFORM pgtrickle._invalid('cdc_mode = ''wal'' requires wal_level = logical and an available replication slot');
    END IF;
    RETURN c;
END
$$;

-- A byte that continues an identifier (letters, digits, '_', '$', any non-ASCII byte).
CREATE FUNCTION pgtrickle._is_ident_byte(c integer) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
    SELECT c >= 128 OR c BETWEEN 48 AND 57 OR c BETWEEN 65 AND 90 OR c BETWEEN 97 AND 122
           OR c IN (36, 95)
$$;

-- Lexical scan of a defining query. pg_trickle hands the text to PostgreSQL's raw parser
-- (pg_trickle src/api/helpers.rs, validate_defining_query); the double cannot, so it follows
-- the lexer's rules for what hides a ';': string literals ('' doubling; E'' strings and, with
-- standard_conforming_strings off, plain ones take backslash escapes), dollar quotes
-- ($tag$…$tag$, only at the start of a token), quoted identifiers ("" doubling), -- line
-- comments and nested /* */ comments. Unterminated literals and comments swallow the rest,
-- as in the lexer (which then reports the syntax error).
--   n_statements: ';'-separated pieces holding at least one token (the raw parser's count:
--                 empty statements, as in 'SELECT 1;', do not count);
--   stripped:     the text with comments blanked, literals emptied and quoted identifiers
--                 replaced by "x", for the double's keyword checks.
CREATE FUNCTION pgtrickle._scan_sql(p_query text, OUT n_statements integer, OUT stripped text)
LANGUAGE plpgsql STABLE AS $$
DECLARE
    enc name := pg_catalog.getdatabaseencoding();
    -- Bytes, not characters: every special character is ASCII, and no byte of a multibyte
    -- character in a server encoding is, so a byte loop is exact and get_byte is O(1).
    b bytea := convert_to(coalesce(p_query, ''), enc);
    n integer := length(b);
    backslash_in_plain boolean := current_setting('standard_conforming_strings') <> 'on';
    i integer := 0;            -- 0-based byte offsets
    j integer;
    k integer;
    c integer;
    c2 integer;
    depth integer;
    delim bytea;
    esc boolean;
    has_token boolean := false;
    out bytea := '';
    copied integer := 0;       -- first byte not yet copied into out
    replacement text;
BEGIN
    n_statements := 0;
    WHILE i < n LOOP
        c := get_byte(b, i);
        c2 := CASE WHEN i + 1 < n THEN get_byte(b, i + 1) ELSE 0 END;
        replacement := NULL;
        IF c = 59 THEN                                   -- ;
            IF has_token THEN
                n_statements := n_statements + 1;
            END IF;
            has_token := false;
            j := i + 1;
        ELSIF c = 45 AND c2 = 45 THEN                    -- -- comment, to the end of the line
            j := i + 2;
            WHILE j < n AND get_byte(b, j) NOT IN (10, 13) LOOP
                j := j + 1;
            END LOOP;
            replacement := ' ';
        ELSIF c = 47 AND c2 = 42 THEN                    -- /* comment */, nested
            depth := 1;
            j := i + 2;
            WHILE j < n AND depth > 0 LOOP
                c := get_byte(b, j);
                c2 := CASE WHEN j + 1 < n THEN get_byte(b, j + 1) ELSE 0 END;
                IF c = 47 AND c2 = 42 THEN
                    depth := depth + 1;
                    j := j + 2;
                ELSIF c = 42 AND c2 = 47 THEN
                    depth := depth - 1;
                    j := j + 2;
                ELSE
                    j := j + 1;
                END IF;
            END LOOP;
            replacement := ' ';
        ELSIF c = 39 THEN                                -- 'string'
            -- E'…' when the E is a token of its own (not the end of an identifier like somE).
            esc := backslash_in_plain
                OR (i > 0 AND get_byte(b, i - 1) IN (69, 101)
                    AND (i = 1 OR NOT pgtrickle._is_ident_byte(get_byte(b, i - 2))));
            j := i + 1;
            WHILE j < n LOOP
                c := get_byte(b, j);
                IF c = 92 AND esc THEN
                    j := j + 2;
                ELSIF c = 39 THEN
                    EXIT WHEN j + 1 >= n OR get_byte(b, j + 1) <> 39;
                    j := j + 2;
                ELSE
                    j := j + 1;
                END IF;
            END LOOP;
            j := j + 1;
            replacement := ' '''' ';
            has_token := true;
        ELSIF c = 34 THEN                                -- "quoted identifier"
            j := i + 1;
            WHILE j < n LOOP
                IF get_byte(b, j) = 34 THEN
                    EXIT WHEN j + 1 >= n OR get_byte(b, j + 1) <> 34;
                    j := j + 2;
                ELSE
                    j := j + 1;
                END IF;
            END LOOP;
            j := j + 1;
            replacement := ' "x" ';
            has_token := true;
        ELSIF c = 36 AND (i = 0 OR NOT pgtrickle._is_ident_byte(get_byte(b, i - 1))) THEN
            -- $tag$…$tag$ (tag: an identifier without '$'); $1 or a lone '$' is plain text.
            j := i + 1;
            WHILE j < n AND (pgtrickle._is_ident_byte(get_byte(b, j)) AND get_byte(b, j) <> 36)
                  AND NOT (j = i + 1 AND get_byte(b, j) BETWEEN 48 AND 57) LOOP
                j := j + 1;
            END LOOP;
            IF j < n AND get_byte(b, j) = 36 THEN
                delim := substring(b FROM i + 1 FOR j - i + 1);
                k := position(delim IN substring(b FROM j + 2));
                j := CASE WHEN k = 0 THEN n ELSE j + k + length(delim) END;
                replacement := ' '''' ';
            ELSE
                j := i + 1;
            END IF;
            has_token := true;
        ELSE
            IF NOT has_token AND c NOT IN (32, 9, 10, 11, 12, 13) THEN
                has_token := true;
            END IF;
            j := i + 1;
        END IF;
        IF replacement IS NOT NULL THEN
            out := out || substring(b FROM copied + 1 FOR i - copied) || convert_to(replacement, enc);
            copied := j;
        END IF;
        i := j;
    END LOOP;
    IF has_token THEN
        n_statements := n_statements + 1;
    END IF;
    IF copied < n THEN
        out := out || substring(b FROM copied + 1);
    END IF;
    stripped := convert_from(out, enc);
END
$$;


-- Removes comments, string literals and quoted identifiers, for lexical checks only.
CREATE FUNCTION pgtrickle._strip_sql(p_query text) RETURNS text
LANGUAGE sql STABLE AS $$ SELECT (pgtrickle._scan_sql(p_query)).stripped $$;
-- The ORDER BY of a TopK query as pg_trickle stores it in topk_order_by: re-deparsed from the
-- parse tree, not the user's text (src/dvm/parser/sublinks/mod.rs, deparse_sort_clause and
-- deparse_sort_by; src/dvm/parser/types.rs, Expr::to_sql_into). Items are joined by ", ",
-- an explicit direction is written ASC / DESC and NULLS FIRST / LAST in capitals; a bare
-- column is its name as parsed (folded to lower case, quotes dropped, so "Amount" comes back
-- as Amount), a qualified one "table"."column" (a schema is dropped). Other expressions keep
-- the user's text with whitespace collapsed: the engine's own deparse of them (operators
-- parenthesised, for one) is not imitated.
CREATE FUNCTION pgtrickle._topk_order_by_sql(p_order_by text) RETURNS text
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    items text[] := '{}';
    out_items text[] := '{}';
    item text;
    depth integer := 0;
    quote text := NULL;
    start integer := 1;
    ch text;
    m text[];
    dir text;
    nulls text;
    parts text[];
BEGIN
    -- Split on the commas outside parentheses, string literals and quoted identifiers.
    FOR i IN 1 .. length(p_order_by) LOOP
        ch := substr(p_order_by, i, 1);
        IF quote IS NOT NULL THEN
            IF ch = quote THEN
                quote := NULL;
            END IF;
        ELSIF ch IN ('''', '"') THEN
            quote := ch;
        ELSIF ch = '(' THEN
            depth := depth + 1;
        ELSIF ch = ')' THEN
            depth := depth - 1;
        ELSIF ch = ',' AND depth = 0 THEN
            items := items || substr(p_order_by, start, i - start);
            start := i + 1;
        END IF;
    END LOOP;
    items := items || substr(p_order_by, start);
    FOREACH item IN ARRAY items LOOP
        item := btrim(regexp_replace(item, '\s+', ' ', 'g'));
        nulls := '';
        dir := '';
        m := regexp_match(item, '^(.*\S)\s+nulls\s+(first|last)$', 'i');
        IF m IS NOT NULL THEN
            item := m[1];
            nulls := ' NULLS ' || upper(m[2]);
        END IF;
        m := regexp_match(item, '^(.*\S)\s+(asc|desc)$', 'i');
        IF m IS NOT NULL THEN
            item := m[1];
            dir := ' ' || upper(m[2]);
        END IF;
        BEGIN
            parts := parse_ident(item);
        EXCEPTION WHEN OTHERS THEN
            parts := NULL;
        END;
        IF cardinality(parts) = 1 THEN
            item := parts[1];
        ELSIF cardinality(parts) IN (2, 3) THEN
            item := format('"%s"."%s"', replace(parts[cardinality(parts) - 1], '"', '""'),
                           replace(parts[cardinality(parts)], '"', '""'));
        END IF;
        out_items := out_items || (item || dir || nulls);
    END LOOP;
    RETURN array_to_string(out_items, ', ');
END
$$;

-- ---------------------------------------------------------------------------------------
-- Query analysis: statement count, LIMIT/OFFSET rules, TopK stripping, output columns,
-- referenced relations (through a temporary probe view's pg_depend rows), volatility.
-- ---------------------------------------------------------------------------------------
CREATE FUNCTION pgtrickle._analyze_query(
    p_query text, p_mode text,
    OUT defining_query text, OUT original_query text,
    OUT topk_limit integer, OUT topk_order_by text, OUT topk_offset integer,
    OUT col_names text[], OUT col_types text[], OUT has_count boolean,
    OUT src_oids oid[], OUT src_types text[], OUT src_cols jsonb,
    OUT keyless boolean, OUT has_volatile boolean, OUT has_view boolean)
LANGUAGE plpgsql AS $$
DECLARE
    scan record := pgtrickle._scan_sql(p_query);
    stripped text := scan.stripped;
    body text;
    n_stmt integer;
    m text[];
    probe oid;
    policy text := coalesce(nullif(current_setting('pg_trickle.volatile_function_policy', true), ''), 'reject');
    r record;
    old_path text;
    one_stmt refcursor;
BEGIN
    n_stmt := scan.n_statements;
    IF n_stmt <> 1 THEN
        RAISE EXCEPTION USING MESSAGE = format('query parse error: Expected 1 statement, got %s', n_stmt),
            ERRCODE = '42000';
    END IF;
    -- A trailing ';' stays: pg_trickle runs the query as `… FROM (<query>) sub`, where it is
    -- a syntax error (pg_trickle src/api/helpers.rs, initialize_st).
    body := regexp_replace(p_query, E'\\s+$', '');
    -- Second line of defence before any EXECUTE: a cursor cannot be opened on more than one
    -- statement, and opening one parses and plans without running anything.
    BEGIN
        OPEN one_stmt FOR EXECUTE body;
        CLOSE one_stmt;
    EXCEPTION WHEN invalid_cursor_definition THEN
        -- Other refusals (a single non-SELECT) are left to the probe view's own error.
        IF SQLERRM LIKE 'cannot open multi-query plan%' THEN
            RAISE EXCEPTION USING ERRCODE = '42000',
                MESSAGE = 'query parse error: Expected 1 statement, got more than 1';
        END IF;
    END;

    IF stripped ~* '\mlimit\M' AND stripped !~* '\morder\s+by\M' THEN
        RAISE EXCEPTION USING ERRCODE = '0A000', MESSAGE =
            'unsupported operator for DIFFERENTIAL mode: LIMIT is not supported in defining queries without ORDER BY. Use ORDER BY + LIMIT for TopK stream tables, or omit LIMIT to materialize the full result set.';
    END IF;
    IF stripped ~* '\moffset\M' AND (stripped !~* '\morder\s+by\M' OR stripped !~* '\mlimit\M') THEN
        RAISE EXCEPTION USING ERRCODE = '0A000', MESSAGE =
            'unsupported operator for DIFFERENTIAL mode: OFFSET is not supported in defining queries without ORDER BY + LIMIT. Use ORDER BY + LIMIT + OFFSET for paged TopK stream tables, or omit OFFSET to materialize the full result set.';
    END IF;

    -- Probe view: PostgreSQL itself parses and analyses the query (native errors surface).
    IF to_regclass('pg_temp.__pgt_probe') IS NOT NULL THEN
        EXECUTE 'DROP VIEW pg_temp.__pgt_probe';
    END IF;
    EXECUTE format('CREATE TEMP VIEW __pgt_probe AS %s', body);
    probe := 'pg_temp.__pgt_probe'::regclass;

    SELECT coalesce(array_agg(a.attname::text ORDER BY a.attnum), '{}'),
           coalesce(array_agg(format_type(a.atttypid, NULL) ORDER BY a.attnum), '{}')
      INTO col_names, col_types
      FROM pg_attribute a WHERE a.attrelid = probe AND a.attnum > 0 AND NOT a.attisdropped;

    WITH RECURSIVE refs(relid, objsubid) AS (
        SELECT d.refobjid, d.refobjsubid
        FROM pg_depend d JOIN pg_rewrite rw ON rw.oid = d.objid
        WHERE d.classid = 'pg_rewrite'::regclass AND rw.ev_class = probe
          AND d.refclassid = 'pg_class'::regclass AND d.refobjid <> probe
        UNION
        SELECT d.refobjid, d.refobjsubid
        FROM refs JOIN pg_class c ON c.oid = refs.relid AND c.relkind = 'v'
        JOIN pg_rewrite rw ON rw.ev_class = c.oid
        JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = rw.oid
        WHERE d.refclassid = 'pg_class'::regclass AND d.refobjid <> c.oid
    ), rels AS (
        SELECT c.oid, c.relkind,
               array_agg(DISTINCT a.attname::text) FILTER (WHERE a.attname IS NOT NULL) AS cols
        FROM refs JOIN pg_class c ON c.oid = refs.relid
        LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = refs.objsubid AND refs.objsubid > 0
        WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f')
        GROUP BY c.oid, c.relkind
    )
    SELECT coalesce(array_agg(r2.oid ORDER BY r2.oid), '{}'),
           coalesce(array_agg(CASE
                WHEN r2.relkind IN ('r', 'p') AND EXISTS (
                    SELECT 1 FROM pgtrickle.pgt_stream_tables s WHERE s.pgt_relid = r2.oid)
                    THEN 'STREAM_TABLE'
                WHEN r2.relkind IN ('r', 'p') THEN 'TABLE'
                WHEN r2.relkind = 'v' THEN 'VIEW'
                WHEN r2.relkind = 'm' THEN 'MATVIEW'
                ELSE 'FOREIGN_TABLE' END ORDER BY r2.oid), '{}'),
           coalesce(jsonb_object_agg(r2.oid::text, to_jsonb(coalesce(r2.cols, '{}'))), '{}'::jsonb)
      INTO src_oids, src_types, src_cols
      FROM rels r2;

    IF coalesce(array_length(col_names, 1), 0) = 0 THEN
        RAISE EXCEPTION USING ERRCODE = '42000',
            MESSAGE = 'query parse error: Defining query returns no columns';
    END IF;
    -- pg_trickle src/api/mod.rs, validate_and_parse_query: DIFFERENTIAL and IMMEDIATE (not
    -- TopK) parse the query for incremental maintenance before its tables are collected, and
    -- that parser refuses a SELECT without FROM (src/dvm/parser/sublinks/mod.rs,
    -- parse_select_stmt_inner; its message prints parse-tree fields, of which the double knows
    -- the target list length and whether there is a WHERE). FULL and AUTO (which falls back to
    -- FULL) reach the "references no tables" check below.
    IF coalesce(array_length(src_oids, 1), 0) = 0 AND p_mode IN ('DIFFERENTIAL', 'IMMEDIATE')
       AND stripped !~* '\mfrom\M' AND stripped !~* '\mlimit\s+[0-9]+(\s+offset\s+[0-9]+)?\s*;?\s*$' THEN
        RAISE EXCEPTION USING ERRCODE = '42000', MESSAGE = format(
            'query parse error: Defining query must have a FROM clause (op=0, all=false, larg_null=true, rarg_null=true, target_len=%s, where_null=%s)',
            array_length(col_names, 1), (stripped !~* '\mwhere\M')::text);
    END IF;
    IF coalesce(array_length(src_oids, 1), 0) = 0 THEN
        RAISE EXCEPTION USING ERRCODE = '42000',
            MESSAGE = 'query parse error: Defining query references no tables';
    END IF;

    has_view := 'VIEW' = ANY (src_types);
    SELECT coalesce(bool_or(NOT EXISTS (
               SELECT 1 FROM pg_index i WHERE i.indrelid = u.o AND i.indisprimary)), false)
      INTO keyless
      FROM unnest(src_oids, src_types) AS u(o, t) WHERE u.t = 'TABLE';

    -- Volatility: functions called by name in the text (built-ins are pinned, so pg_depend
    -- does not list them) whose every overload is volatile, plus user functions in pg_depend.
    SELECT coalesce(bool_or(v), false) INTO has_volatile FROM (
        SELECT bool_and(p.provolatile = 'v') AS v
        FROM (SELECT DISTINCT lower(x[1]) AS fname
              FROM regexp_matches(stripped, '([A-Za-z_][A-Za-z0-9_]*)\s*\(', 'g') AS x) f
        JOIN pg_proc p ON p.proname = f.fname
        GROUP BY f.fname
        UNION ALL
        SELECT p.provolatile = 'v'
        FROM pg_depend d JOIN pg_rewrite rw ON rw.oid = d.objid
        JOIN pg_proc p ON p.oid = d.refobjid
        WHERE d.classid = 'pg_rewrite'::regclass AND rw.ev_class = probe
          AND d.refclassid = 'pg_proc'::regclass) vv;

    has_count := stripped ~* '\mgroup\s+by\M' OR stripped ~* '\mdistinct\M'
        OR stripped ~* '\munion\M(?!\s+all\M)'
        OR EXISTS (
            SELECT 1
            FROM (SELECT DISTINCT lower(x[1]) AS fname
                  FROM regexp_matches(stripped, '([A-Za-z_][A-Za-z0-9_]*)\s*\(', 'g') AS x) f
            JOIN pg_proc p ON p.proname = f.fname AND p.prokind = 'a');

    -- TopK: a trailing top-level ORDER BY ... LIMIT n [OFFSET m].
    m := regexp_match(body, '^(.*\S)\s+order\s+by\s+(.*\S)\s+limit\s+([0-9]+)(?:\s+offset\s+([0-9]+))?$', 'is');
    -- Only a top-level clause counts: the text before and inside it must balance parentheses.
    IF m IS NOT NULL AND stripped ~* '\mlimit\s+[0-9]+(\s+offset\s+[0-9]+)?\s*;?\s*$'
       AND length(regexp_replace(m[1], '[^(]', '', 'g')) = length(regexp_replace(m[1], '[^)]', '', 'g'))
       AND length(regexp_replace(m[2], '[^(]', '', 'g')) = length(regexp_replace(m[2], '[^)]', '', 'g')) THEN
        defining_query := m[1];
        -- The stored base query differs from the user's text, which upstream then keeps.
        original_query := p_query;
        topk_order_by := pgtrickle._topk_order_by_sql(m[2]);
        topk_limit := m[3]::integer;
        topk_offset := m[4]::integer;
    ELSIF has_view THEN
        -- Views are "inlined": store a fully qualified rewritten text, keep the user's text.
        old_path := current_setting('search_path');
        PERFORM set_config('search_path', 'pg_catalog', true);
        defining_query := regexp_replace(pg_get_viewdef(probe, false), '[\s;]+$', '');
        PERFORM set_config('search_path', old_path, true);
        original_query := p_query;
    ELSE
        defining_query := p_query;
    END IF;
    IF has_view AND original_query IS NULL THEN
        original_query := p_query;
    END IF;

    EXECUTE 'DROP VIEW pg_temp.__pgt_probe';

    IF has_volatile AND p_mode <> 'FULL' THEN
        IF policy = 'reject' THEN
            RAISE EXCEPTION USING ERRCODE = '0A000', MESSAGE =
                'unsupported operator for DIFFERENTIAL mode: Defining query contains volatile expressions (e.g., random(), clock_timestamp(), or custom volatile operators). Volatile functions and operators are not supported in DIFFERENTIAL or IMMEDIATE mode because they produce different values on each evaluation, breaking delta computation. Use FULL refresh mode instead, or replace with a deterministic alternative. (Override with: SET pg_trickle.volatile_function_policy = ''warn'' or ''allow'')';
        ELSIF policy = 'warn' THEN
            RAISE WARNING 'Defining query contains volatile expressions (e.g., random(), clock_timestamp()). Volatile functions produce different values on each evaluation, which may break delta computation. Allowed by pg_trickle.volatile_function_policy = ''warn''.';
        END IF;
    END IF;
END
$$;

-- What keeps a query from DIFFERENTIAL / IMMEDIATE maintenance in the double: a source that
-- is a materialized view or a foreign table (pg_trickle src/dvm/parser/rewrites.rs,
-- reject_materialized_views, unless pg_trickle.matview_polling / foreign_table_polling is on),
-- as the text pg_trickle reports it with; NULL when nothing does. validate_and_parse_query
-- (src/api/mod.rs) falls back to FULL for AUTO at create and refuses otherwise, also in
-- alter_stream_table_query, which checks a new query against the STORED mode with the
-- fallback off (src/api/alter.rs).
CREATE FUNCTION pgtrickle._differential_blocker(p_src_oids oid[], p_src_types text[]) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN u.t = 'MATVIEW' THEN format(
                'Materialized view ''%s.%s'' cannot be used as a source in DIFFERENTIAL mode. Materialized views are stale snapshots — CDC triggers cannot track REFRESH MATERIALIZED VIEW. Use the underlying query directly, or switch to FULL refresh mode. Alternatively, enable polling-based CDC with: SET pg_trickle.matview_polling = on;',
                n.nspname, c.relname)
           ELSE format(
                'Foreign table ''%s.%s'' cannot be used as a source in DIFFERENTIAL mode. Foreign tables do not support row-level triggers. Use FULL refresh mode, or enable polling-based CDC with: SET pg_trickle.foreign_table_polling = on;',
                n.nspname, c.relname) END
    FROM unnest(p_src_oids, p_src_types) AS u(o, t)
    JOIN pg_class c ON c.oid = u.o JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE (u.t = 'MATVIEW' AND coalesce(current_setting('pg_trickle.matview_polling', true), 'off') NOT IN ('on', 'true'))
       OR (u.t = 'FOREIGN_TABLE' AND coalesce(current_setting('pg_trickle.foreign_table_polling', true), 'off') NOT IN ('on', 'true'))
    ORDER BY u.o LIMIT 1
$$;

-- The query a refresh runs: defining_query plus any stripped TopK clause.
CREATE FUNCTION pgtrickle._pgt_full_query(p_id bigint) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT regexp_replace(s.defining_query, E'\\s+$', '')
           || CASE WHEN s.topk_limit IS NOT NULL
                   THEN ' ORDER BY ' || s.topk_order_by || ' LIMIT ' || s.topk_limit
                        || coalesce(' OFFSET ' || s.topk_offset, '')
                   ELSE '' END
    FROM pgtrickle.pgt_stream_tables s WHERE s.pgt_id = p_id
$$;

-- partition_by (pg_trickle src/api/helpers.rs, validate_partition_key): returns kind (RANGE/LIST/HASH), columns and HASH modulus.
CREATE FUNCTION pgtrickle._parse_partition(p_spec text, p_cols text[],
                                           OUT kind text, OUT cols text[], OUT modulus integer)
LANGUAGE plpgsql AS $$
DECLARE
    rest text := btrim(p_spec);
    parts text[];
    c text;
    found_col text;
BEGIN
    kind := 'RANGE';
    IF rest ~* '^list:' THEN
        kind := 'LIST';
        rest := substr(rest, 6);
    ELSIF rest ~* '^hash:' THEN
        kind := 'HASH';
        rest := substr(rest, 6);
        modulus := 4;
        IF rest ~ ':' THEN
            IF split_part(rest, ':', 2) !~ '^\s*[0-9]+\s*$' THEN
                PERFORM pgtrickle._invalid(format('invalid HASH partition count in partition_by ''%s''', p_spec));
            END IF;
            modulus := btrim(split_part(rest, ':', 2))::integer;
            rest := split_part(rest, ':', 1);
            IF modulus < 2 OR modulus > 256 THEN
                PERFORM pgtrickle._invalid(format('HASH partition count must be between 2 and 256, got %s', modulus));
            END IF;
        END IF;
    END IF;
    parts := regexp_split_to_array(btrim(rest), '\s*,\s*');
    IF btrim(rest) = '' THEN
        PERFORM pgtrickle._invalid(format('partition_by ''%s'' names no column', p_spec));
    END IF;
    IF kind IN ('LIST', 'HASH') AND array_length(parts, 1) > 1 THEN
        PERFORM pgtrickle._invalid(format('%s partitioning supports exactly one column, got %s', kind, array_length(parts, 1)));
    END IF;
    cols := '{}';
    FOREACH c IN ARRAY parts LOOP
        SELECT x INTO found_col FROM unnest(p_cols) x WHERE lower(x) = lower(btrim(c)) LIMIT 1;
        IF found_col IS NULL THEN
            PERFORM pgtrickle._invalid(format('partition_by column ''%s'' is not in the stream table''s SELECT output. Available columns: %s',
                btrim(c), array_to_string(p_cols, ', ')));
        END IF;
        cols := cols || found_col;
    END LOOP;
END
$$;
-- Names of objects that belong to one storage table. pg_trickle derives them from the table
-- name (`_pgt_guard_<name>`, `<name>_p<i>`, `<name>_default`; pg_trickle src/api/helpers.rs,
-- install_dml_guard_trigger, and src/api/mod.rs, setup_storage_table), which PostgreSQL
-- truncates to 63 bytes: two long names sharing a prefix would then share one guard function
-- and neither could be dropped cleanly. The double names the guard function after the
-- table's OID (nobody refers to it by name) and keeps pg_trickle's partition names where
-- they fit, falling back to the OID (as pg_trickle names its change buffers changes_<oid>).
CREATE FUNCTION pgtrickle._guard_name(p_relid oid) RETURNS text
LANGUAGE sql IMMUTABLE AS $$ SELECT '_pgt_guard_' || p_relid::text $$;

CREATE FUNCTION pgtrickle._child_name(p_name text, p_relid oid, p_suffix text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN octet_length(p_name || p_suffix) <= 63 THEN p_name || p_suffix
                ELSE '_pgt_' || p_relid::text || p_suffix END
$$;

-- Row identity. 0.67.0 keys storage rows with a bigint hash; the 0.108.3 update
-- (pg_trickle--0.67.0--0.108.3.sql) replaces these two functions with bytea (row identity V2).
CREATE FUNCTION pgtrickle._row_id_type() RETURNS text
LANGUAGE sql IMMUTABLE AS $$ SELECT 'bigint' $$;
-- The SQL expression that turns the key text expression p_key into a row id.
CREATE FUNCTION pgtrickle._row_id_sql(p_key text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$ SELECT format('hashtextextended(%s, 0)', p_key) $$;

-- ---------------------------------------------------------------------------------------
-- Storage table (pg_trickle src/api/mod.rs, setup_storage_table): __pgt_row_id, query columns (typmods dropped), auxiliary columns,
-- row-id index, DML guard function and triggers. Returns the new table's OID.
-- ---------------------------------------------------------------------------------------
CREATE FUNCTION pgtrickle._build_storage(
    p_schema text, p_name text, p_cols text[], p_types text[], p_has_count boolean,
    p_temporal boolean, p_partition text, p_keyless boolean) RETURNS oid
LANGUAGE plpgsql AS $$
DECLARE
    defs text := '__pgt_row_id ' || pgtrickle._row_id_type();
    i integer;
    part record;
    part_clause text := '';
    qual text := format('%I.%I', p_schema, p_name);
    guard text;
    v_relid oid;
    prev_check text;
    include text := '';
BEGIN
    -- The row-id index covers the query's columns (INCLUDE) when pg_trickle.auto_index is on
    -- (the default) and there are 1 to 8 of them (setup_storage_table,
    -- COVERING_INDEX_MAX_COLUMNS); PostgreSQL then names it after all of them.
    IF coalesce(nullif(current_setting('pg_trickle.auto_index', true), ''), 'on')::boolean
       AND coalesce(array_length(p_cols, 1), 0) BETWEEN 1 AND 8 THEN
        include := format(' INCLUDE (%s)', (SELECT string_agg(quote_ident(c), ', ' ORDER BY n)
                                            FROM unnest(p_cols) WITH ORDINALITY AS u(c, n)));
    END IF;
    FOR i IN 1 .. coalesce(array_length(p_cols, 1), 0) LOOP
        defs := defs || format(', %I %s', p_cols[i], p_types[i]);
    END LOOP;
    IF p_has_count THEN
        defs := defs || ', __pgt_count bigint NOT NULL DEFAULT 0';
    END IF;
    IF p_temporal THEN
        defs := defs || ', __pgt_valid_from timestamptz NOT NULL DEFAULT now(), __pgt_valid_to timestamptz';
    END IF;
    IF nullif(btrim(p_partition), '') IS NOT NULL THEN
        part := pgtrickle._parse_partition(p_partition, p_cols);
        part_clause := format(' PARTITION BY %s (%s)', part.kind,
            (SELECT string_agg(quote_ident(c), ', ') FROM unnest(part.cols) c));
    END IF;
    EXECUTE format('CREATE TABLE %s (%s)%s', qual, defs, part_clause);
    v_relid := qual::regclass::oid;
    guard := pgtrickle._guard_name(v_relid);
    IF part_clause <> '' THEN
        IF part.kind = 'HASH' THEN
            FOR i IN 0 .. part.modulus - 1 LOOP
                EXECUTE format('CREATE TABLE %I.%I PARTITION OF %s FOR VALUES WITH (MODULUS %s, REMAINDER %s)',
                    p_schema, pgtrickle._child_name(p_name, v_relid, '_p' || i), qual, part.modulus, i);
            END LOOP;
        ELSE
            EXECUTE format('CREATE TABLE %I.%I PARTITION OF %s DEFAULT', p_schema,
                pgtrickle._child_name(p_name, v_relid, '_default'), qual);
        END IF;
        EXECUTE format('CREATE INDEX ON %s (__pgt_row_id)%s', qual, include);
    ELSIF p_keyless THEN
        EXECUTE format('CREATE INDEX ON %s (__pgt_row_id)%s', qual, include);
    ELSE
        EXECUTE format('CREATE UNIQUE INDEX ON %s (__pgt_row_id)%s', qual, include);
    END IF;
    -- Not compiled now (the body is fixed and known to be valid): a compiled copy would stay
    -- in this session's cache for every stream table it creates.
    prev_check := current_setting('check_function_bodies');
    PERFORM set_config('check_function_bodies', 'off', true);
    EXECUTE format($f$CREATE OR REPLACE FUNCTION %I.%I() RETURNS trigger LANGUAGE plpgsql AS $g$
BEGIN
    IF current_setting('pg_trickle.internal_refresh', true) = 'true' THEN
        IF TG_LEVEL = 'ROW' THEN
            IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
            RETURN NEW;
        END IF;
        RETURN NULL;
    END IF;
    RAISE EXCEPTION USING ERRCODE = 'P0001', MESSAGE = format(
        'Direct DML on stream table %%s.%%s is not allowed. Stream tables are maintained automatically by pg_trickle.',
        TG_TABLE_SCHEMA, TG_TABLE_NAME);
END
$g$ $f$, p_schema, guard);
    PERFORM set_config('check_function_bodies', prev_check, true);
    -- The WHEN clause keeps the double's own writes (population, refresh) from calling the
    -- guard at all: PL/pgSQL compiles a trigger function once per trigger and session and
    -- keeps its plans, and every later DDL in that session walks all cached plans, so a
    -- session that populated thousands of stream tables paid for each of them on every create.
    EXECUTE format('CREATE TRIGGER pgt_dml_guard BEFORE INSERT OR UPDATE OR DELETE ON %s FOR EACH ROW'
                   ' WHEN (current_setting(''pg_trickle.internal_refresh'', true) IS DISTINCT FROM ''true'')'
                   ' EXECUTE FUNCTION %I.%I()',
        qual, p_schema, guard);
    EXECUTE format('CREATE TRIGGER pgt_truncate_guard BEFORE TRUNCATE ON %s FOR EACH STATEMENT EXECUTE FUNCTION %I.%I()',
        qual, p_schema, guard);
    RETURN v_relid;
END
$$;

-- The flag tells the sql_drop event trigger that the catalog is being handled here.
CREATE FUNCTION pgtrickle._drop_storage(p_schema text, p_name text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    prev text := current_setting('pg_trickle.internal_drop', true);
    v_relid oid := to_regclass(format('%I.%I', p_schema, p_name));
BEGIN
    PERFORM set_config('pg_trickle.internal_drop', 'true', true);
    EXECUTE format('DROP TABLE IF EXISTS %I.%I CASCADE', p_schema, p_name);
    IF v_relid IS NOT NULL THEN
        IF to_regprocedure(format('%I.%I()', p_schema, pgtrickle._guard_name(v_relid))) IS NOT NULL THEN
            EXECUTE format('DROP FUNCTION %I.%I()', p_schema, pgtrickle._guard_name(v_relid));
        END IF;
    END IF;
    PERFORM set_config('pg_trickle.internal_drop', coalesce(prev, ''), true);
END
$$;

-- ---------------------------------------------------------------------------------------
-- Change capture: statement-level triggers count changed rows per (stream table, source);
-- IMMEDIATE stream tables are rebuilt from the same triggers.
-- ---------------------------------------------------------------------------------------
CREATE FUNCTION pgtrickle._pgt_capture() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE
    n bigint := 0;
    st record;
BEGIN
    IF TG_OP = 'INSERT' THEN
        SELECT count(*) INTO n FROM __pgt_new;
    ELSIF TG_OP = 'UPDATE' THEN
        SELECT count(*) INTO n FROM __pgt_new;
    ELSIF TG_OP = 'DELETE' THEN
        SELECT count(*) INTO n FROM __pgt_old;
    ELSE
        EXECUTE format('SELECT count(*) FROM %s', TG_RELID::regclass) INTO n;
    END IF;
    IF n > 0 THEN
        UPDATE pgtrickle_changes.pgt_pending SET pending_rows = pending_rows + n
        WHERE source_relid = TG_RELID;
        -- The change buffer, as pg_trickle's capture triggers write it (src/cdc/mod.rs: one
        -- row per change keyed by pg_current_wal_insert_lsn(); here one row per statement).
        EXECUTE format('INSERT INTO pgtrickle_changes.%I (lsn, action) VALUES (pg_current_wal_insert_lsn(), %L)',
                       'changes_' || TG_RELID::oid::text, left(TG_OP, 1));
    END IF;
    IF TG_WHEN = 'AFTER' THEN
        FOR st IN
            SELECT s.pgt_id FROM pgtrickle.pgt_stream_tables s
            JOIN pgtrickle.pgt_dependencies d ON d.pgt_id = s.pgt_id
            WHERE d.source_relid = TG_RELID AND s.refresh_mode = 'IMMEDIATE'
              AND s.status IN ('ACTIVE', 'INITIALIZING')
            ORDER BY s.pgt_id
        LOOP
            PERFORM pgtrickle._pgt_immediate_rebuild(st.pgt_id);
        END LOOP;
    END IF;
    RETURN NULL;
END
$$;

-- TRUNCATE needs a BEFORE (count) and an AFTER (IMMEDIATE rebuild) trigger.
CREATE FUNCTION pgtrickle._install_capture(p_relid oid) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    qual text := p_relid::regclass::text;
BEGIN
    -- Like pg_trickle 0.67.0 (create_stream_table_impl, src/api/create.rs), no lock makes a
    -- second session that installs capture on the same source wait: both see no buffer yet,
    -- and the second one's CREATE fails with 23505 on pg_type once the first commits.
    -- Our clients serialize lifecycle calls themselves (vocabulary/lifecycle.py).
    EXECUTE format('CREATE TABLE IF NOT EXISTS pgtrickle_changes.%I (change_id bigserial, lsn pg_lsn NOT NULL, action char(1) NOT NULL)',
                   'changes_' || p_relid::oid::text);
    IF EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = p_relid AND tgname = 'pgt_cdc_ins') THEN
        RETURN;
    END IF;
    EXECUTE format('CREATE TRIGGER pgt_cdc_ins AFTER INSERT ON %s REFERENCING NEW TABLE AS __pgt_new FOR EACH STATEMENT EXECUTE FUNCTION pgtrickle._pgt_capture()', qual);
    EXECUTE format('CREATE TRIGGER pgt_cdc_upd AFTER UPDATE ON %s REFERENCING OLD TABLE AS __pgt_old NEW TABLE AS __pgt_new FOR EACH STATEMENT EXECUTE FUNCTION pgtrickle._pgt_capture()', qual);
    EXECUTE format('CREATE TRIGGER pgt_cdc_del AFTER DELETE ON %s REFERENCING OLD TABLE AS __pgt_old FOR EACH STATEMENT EXECUTE FUNCTION pgtrickle._pgt_capture()', qual);
    EXECUTE format('CREATE TRIGGER pgt_cdc_trunc BEFORE TRUNCATE ON %s FOR EACH STATEMENT EXECUTE FUNCTION pgtrickle._pgt_capture()', qual);
    EXECUTE format('CREATE TRIGGER pgt_cdc_trunc_after AFTER TRUNCATE ON %s FOR EACH STATEMENT EXECUTE FUNCTION pgtrickle._pgt_capture()', qual);
END
$$;

CREATE FUNCTION pgtrickle._remove_capture(p_relid oid) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    t text;
BEGIN
    IF EXISTS (SELECT 1 FROM pgtrickle.pgt_dependencies
               WHERE source_relid = p_relid AND source_type IN ('TABLE', 'STREAM_TABLE')) THEN
        RETURN;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_class WHERE oid = p_relid) THEN
        RETURN;
    END IF;
    FOREACH t IN ARRAY ARRAY['pgt_cdc_ins', 'pgt_cdc_upd', 'pgt_cdc_del', 'pgt_cdc_trunc', 'pgt_cdc_trunc_after'] LOOP
        EXECUTE format('DROP TRIGGER IF EXISTS %I ON %s', t, p_relid::regclass);
    END LOOP;
    EXECUTE format('DROP TABLE IF EXISTS pgtrickle_changes.%I', 'changes_' || p_relid::oid::text);
END
$$;

-- Dependency rows + pending counters + capture for one stream table.
CREATE FUNCTION pgtrickle._install_dependencies(p_id bigint, p_src_oids oid[], p_src_types text[],
                                               p_src_cols jsonb, p_cdc text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    i integer;
    src oid;
    typ text;
BEGIN
    FOR i IN 1 .. coalesce(array_length(p_src_oids, 1), 0) LOOP
        src := p_src_oids[i];
        typ := p_src_types[i];
        -- A view's row has no column list upstream (the columns are recorded on the tables
        -- it reads, after view inlining).
        INSERT INTO pgtrickle.pgt_dependencies (pgt_id, source_relid, source_type, columns_used, cdc_mode)
        VALUES (p_id, src, typ,
                CASE WHEN typ <> 'VIEW' THEN
                    ARRAY(SELECT jsonb_array_elements_text(p_src_cols -> src::text) ORDER BY 1) END,
                'TRIGGER');
        IF typ IN ('TABLE', 'STREAM_TABLE') THEN
            INSERT INTO pgtrickle_changes.pgt_pending (pgt_id, source_relid) VALUES (p_id, src);
            PERFORM pgtrickle._install_capture(src);
        END IF;
    END LOOP;
END
$$;

CREATE FUNCTION pgtrickle._remove_dependencies(p_id bigint) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    srcs oid[];
    src oid;
BEGIN
    SELECT coalesce(array_agg(source_relid), '{}') INTO srcs
      FROM pgtrickle.pgt_dependencies WHERE pgt_id = p_id;
    DELETE FROM pgtrickle.pgt_dependencies WHERE pgt_id = p_id;
    DELETE FROM pgtrickle_changes.pgt_pending WHERE pgt_id = p_id;
    FOREACH src IN ARRAY srcs LOOP
        PERFORM pgtrickle._remove_capture(src);
    END LOOP;
END
$$;

-- ---------------------------------------------------------------------------------------
-- Refresh core. Recomputes the query; FULL replaces the content, DIFFERENTIAL writes only the
-- difference. __pgt_row_id = hash of the row's text plus its occurrence number, so equal rows
-- keep their ids across refreshes and the difference is a comparison of ids.
-- ---------------------------------------------------------------------------------------
CREATE FUNCTION pgtrickle._pgt_apply(p_id bigint, p_full boolean,
                                     OUT rows_inserted bigint, OUT rows_deleted bigint)
LANGUAGE plpgsql AS $$
DECLARE
    st pgtrickle.pgt_stream_tables;
    q text;
    qual text;
    cols text;
    sel text;
    extra_cols text := '';
    extra_vals text := '';
    prev text := current_setting('pg_trickle.internal_refresh', true);
    rid text := pgtrickle._row_id_sql(
        '__pgt_q::text || ''#'' || (row_number() OVER (PARTITION BY __pgt_q::text))::text');
BEGIN
    SELECT * INTO st FROM pgtrickle.pgt_stream_tables WHERE pgt_id = p_id;
    -- _repopulate asks for defining_query alone (see there).
    q := CASE WHEN current_setting('pgtrickle_test.repopulating', true) = 'on'
              THEN regexp_replace(st.defining_query, E'\\s+$', '')
              ELSE pgtrickle._pgt_full_query(p_id) END;
    qual := st.pgt_relid::regclass::text;
    SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum),
           string_agg('__pgt_n.' || quote_ident(attname), ', ' ORDER BY attnum)
      INTO cols, sel
      FROM pg_attribute
     WHERE attrelid = st.pgt_relid AND attnum > 0 AND NOT attisdropped
       AND attname NOT LIKE '\_\_pgt\_%';
    IF EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = st.pgt_relid
               AND attname = '__pgt_count' AND NOT attisdropped) THEN
        extra_cols := ', __pgt_count';
        extra_vals := ', 1';
    END IF;
    PERFORM set_config('pg_trickle.internal_refresh', 'true', true);
    IF p_full THEN
        EXECUTE format('DELETE FROM %s', qual);
        -- By position, as upstream's full refresh (src/refresh/merge/mod.rs,
        -- execute_full_refresh: INSERT INTO <table> SELECT <row id>, sub.* ...): after a query
        -- change in place that appended columns behind __pgt_count, values land in the wrong
        -- columns there, and so here (vocabulary/lifecycle.py, IN_PLACE_QUERY_SQL).
        EXECUTE format(
            'INSERT INTO %1$s
             SELECT __pgt_n.*%2$s FROM (
                SELECT %4$s AS __pgt_rid, __pgt_q.*
                FROM (%3$s) __pgt_q) __pgt_n',
            qual, extra_vals, q, rid);
        GET DIAGNOSTICS rows_inserted = ROW_COUNT;
        rows_deleted := 0;
    ELSE
        EXECUTE format(
            'WITH __pgt_n AS (
                SELECT %7$s AS __pgt_rid, __pgt_q.*
                FROM (%6$s) __pgt_q),
             __pgt_d AS (
                DELETE FROM %1$s __pgt_s
                WHERE __pgt_s.__pgt_row_id IS NULL
                   OR NOT EXISTS (SELECT 1 FROM __pgt_n WHERE __pgt_n.__pgt_rid = __pgt_s.__pgt_row_id)
                RETURNING 1),
             __pgt_i AS (
                INSERT INTO %1$s (__pgt_row_id, %2$s%4$s)
                SELECT __pgt_n.__pgt_rid, %3$s%5$s FROM __pgt_n
                WHERE NOT EXISTS (SELECT 1 FROM %1$s __pgt_s2 WHERE __pgt_s2.__pgt_row_id = __pgt_n.__pgt_rid)
                RETURNING 1)
             SELECT (SELECT count(*) FROM __pgt_i), (SELECT count(*) FROM __pgt_d)',
            qual, cols, sel, extra_cols, extra_vals, q, rid)
        INTO rows_inserted, rows_deleted;
    END IF;
    PERFORM set_config('pg_trickle.internal_refresh', coalesce(prev, ''), true);
    UPDATE pgtrickle_changes.pgt_pending SET pending_rows = 0 WHERE pgt_id = p_id AND pending_rows <> 0;
END
$$;

-- One complete refresh with catalog + history bookkeeping (manual, scheduler, IMMEDIATE).
-- Returns the action label and the row counts.
CREATE FUNCTION pgtrickle._pgt_refresh(p_id bigint, p_initiated_by text, p_write_history boolean DEFAULT true,
                                       OUT action text, OUT rows_inserted bigint, OUT rows_deleted bigint)
LANGUAGE plpgsql AS $$
DECLARE
    st pgtrickle.pgt_stream_tables;
    is_full boolean;
    res record;
    manual_full boolean;
    keep_ts boolean;
    had_changes boolean;
BEGIN
    SELECT * INTO st FROM pgtrickle.pgt_stream_tables WHERE pgt_id = p_id;
    IF st.topk_limit IS NOT NULL AND p_initiated_by IN ('MANUAL', 'SCHEDULER') THEN
        -- TopK (pg_trickle src/refresh/merge/insert.rs, execute_topk_refresh): one MERGE of
        -- the ORDER BY ... LIMIT query into the table, whose processed-row count is reported
        -- as inserted. It stores no frontier (so the source's buffer rows stay: deferred
        -- cleanup deletes only at or below the lowest frontier). A manual refresh
        -- (src/api/refresh_ops.rs, execute_manual_refresh) records history as FULL and
        -- writes only effective_refresh_mode; the scheduler (src/scheduler/mod.rs,
        -- execute_scheduled_refresh) writes last_refresh_at alone after a DIFFERENTIAL
        -- action that changed nothing, else last_refresh_at and data_timestamp
        -- (update_after_refresh); its NO_DATA action writes nothing (see the test tick).
        res := pgtrickle._pgt_apply(p_id, false);
        rows_inserted := res.rows_inserted + res.rows_deleted;
        rows_deleted := 0;
        IF p_initiated_by = 'MANUAL' THEN
            action := 'FULL';
        ELSE
            action := CASE WHEN st.needs_reinit THEN 'REINITIALIZE'
                           WHEN st.refresh_mode = 'FULL' THEN 'FULL' ELSE 'DIFFERENTIAL' END;
        END IF;
        IF p_initiated_by = 'SCHEDULER' AND action = 'DIFFERENTIAL' AND rows_inserted = 0 THEN
            UPDATE pgtrickle.pgt_stream_tables SET
                is_populated = true, last_refresh_at = now(), consecutive_errors = 0,
                status = 'ACTIVE', last_error_message = NULL, last_error_at = NULL
            WHERE pgt_id = p_id;
        ELSIF p_initiated_by = 'SCHEDULER' THEN
            UPDATE pgtrickle.pgt_stream_tables SET
                data_timestamp = now(), is_populated = true, last_refresh_at = now(),
                consecutive_errors = 0, status = 'ACTIVE', needs_reinit = false,
                last_error_message = NULL, last_error_at = NULL
            WHERE pgt_id = p_id;
        END IF;
        UPDATE pgtrickle.pgt_stream_tables SET effective_refresh_mode = 'TOP_K' WHERE pgt_id = p_id;
        IF p_write_history THEN
            INSERT INTO pgtrickle.pgt_refresh_history
                (pgt_id, data_timestamp, start_time, end_time, action, rows_inserted, rows_deleted,
                 delta_row_count, status, initiated_by)
            VALUES (p_id, now(), now(), now(), action, rows_inserted, 0, rows_inserted,
                    'COMPLETED', p_initiated_by);
        END IF;
        RETURN;
    END IF;
    is_full := st.refresh_mode IN ('FULL', 'IMMEDIATE') OR st.topk_limit IS NOT NULL
               OR st.frontier IS NULL OR st.needs_reinit
               OR coalesce(current_setting('pg_trickle.force_full_refresh', true), 'off') IN ('on', 'true');
    action := CASE WHEN is_full THEN 'FULL' ELSE 'DIFFERENTIAL' END;
    had_changes := EXISTS (SELECT 1 FROM pgtrickle_changes.pgt_pending
                           WHERE pgt_id = p_id AND pending_rows > 0);
    res := pgtrickle._pgt_apply(p_id, is_full);
    IF is_full THEN
        rows_inserted := res.rows_inserted;
        rows_deleted := res.rows_deleted;
    ELSE
        -- pg_trickle src/refresh/merge/mod.rs, execute_differential_refresh: the count is the
        -- MERGE's, every row it inserted, updated or deleted, at least 1 when the change
        -- buffers held changes, returned as (count, 0). (The double's row ids hash the whole
        -- row, so an updated row counts as one deleted and one inserted: 2 where the MERGE
        -- of a keyed source counts 1.)
        rows_inserted := res.rows_inserted + res.rows_deleted;
        IF had_changes THEN
            rows_inserted := greatest(rows_inserted, 1);
        END IF;
        rows_deleted := 0;
    END IF;
    -- pg_trickle src/api/refresh_ops.rs: a manual refresh that takes the FULL path
    -- (execute_manual_full_refresh; a DIFFERENTIAL table reading a stream table is sent there
    -- too) keeps data_timestamp only when no upstream stream table is newer, the frontier is
    -- not empty (it is right after create for a table reading only stream tables) and there is
    -- no table source, whose WAL position has always moved since the previous refresh.
    manual_full := p_initiated_by = 'MANUAL' AND st.topk_limit IS NULL AND (is_full OR EXISTS (
        SELECT 1 FROM pgtrickle.pgt_dependencies d WHERE d.pgt_id = p_id AND d.source_type = 'STREAM_TABLE'));
    keep_ts := manual_full AND st.is_populated AND st.frontier IS NOT NULL AND NOT st.frontier ? 'initial'
        AND NOT EXISTS (SELECT 1 FROM pgtrickle.pgt_dependencies d
                        WHERE d.pgt_id = p_id AND d.source_type IN ('TABLE', 'FOREIGN_TABLE'))
        AND NOT EXISTS (SELECT 1 FROM pgtrickle.pgt_dependencies d
                        JOIN pgtrickle.pgt_stream_tables up ON up.pgt_relid = d.source_relid
                        WHERE d.pgt_id = p_id AND d.source_type = 'STREAM_TABLE'
                          AND up.data_timestamp > coalesce(st.data_timestamp, '-infinity'));
    UPDATE pgtrickle.pgt_stream_tables SET
        status = 'ACTIVE',
        is_populated = true,
        last_refresh_at = now(),
        data_timestamp = CASE WHEN keep_ts THEN data_timestamp
                              WHEN manual_full OR is_full OR NOT st.is_populated
                                   OR rows_inserted + rows_deleted > 0
                              THEN now() ELSE data_timestamp END,
        consecutive_errors = 0,
        last_error_message = NULL,
        last_error_at = NULL,
        needs_reinit = false,
        frontier = pgtrickle._pgt_new_frontier(p_id),
        effective_refresh_mode = CASE WHEN st.topk_limit IS NOT NULL THEN 'TOP_K' ELSE st.refresh_mode END
    WHERE pgt_id = p_id;
    IF p_write_history THEN
        INSERT INTO pgtrickle.pgt_refresh_history
            (pgt_id, data_timestamp, start_time, end_time, action, rows_inserted, rows_deleted,
             delta_row_count, merge_strategy_used, status, initiated_by)
        VALUES (p_id, now(), now(), now(), action, rows_inserted, rows_deleted,
                rows_inserted + rows_deleted,
                CASE WHEN is_full THEN 'truncate_insert' ELSE 'recompute_diff' END,
                'COMPLETED', p_initiated_by);
    END IF;
END
$$;

-- NOTIFY pg_trickle_refresh after a FULL refresh of a stream table that has user triggers
-- (whose row-level firing a FULL refresh suppresses). Mirrors pg_trickle
-- src/api/refresh_ops.rs, execute_manual_full_refresh (manual: p_rows NULL, no "rows" key,
-- suppressed by the table's pooler_compatibility_mode) and src/refresh/merge/mod.rs,
-- execute_full_refresh (scheduler: with "rows", also suppressed by
-- pg_trickle.connection_pooler_mode = 'transaction'). The payload text is built the same way
-- upstream builds it, key order and spacing included.
-- The frontier a refresh that just read every source has reached, in pg_trickle's format
-- (src/version.rs, Frontier: {"sources": {"<source oid>": {"lsn", "snapshot_ts",
-- "snapshot_id"}}, "data_timestamp"}). Buffer rows at or below the lowest frontier of every
-- stream table reading a source are consumed and deleted (pg_trickle's deferred cleanup).
CREATE FUNCTION pgtrickle._pgt_new_frontier(p_id bigint) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    pos pg_lsn := pg_current_wal_insert_lsn();
    d record;
    floor_lsn pg_lsn;
    srcs jsonb := '{}';
BEGIN
    FOR d IN SELECT dep.source_relid FROM pgtrickle.pgt_dependencies dep
             WHERE dep.pgt_id = p_id AND dep.source_type IN ('TABLE', 'STREAM_TABLE')
    LOOP
        srcs := srcs || jsonb_build_object(d.source_relid::text, jsonb_build_object(
            'lsn', pos::text, 'snapshot_ts', now(), 'snapshot_id', NULL));
        SELECT min(coalesce((o.frontier -> 'sources' -> d.source_relid::text ->> 'lsn')::pg_lsn, '0/0'))
          INTO floor_lsn
          FROM pgtrickle.pgt_dependencies od JOIN pgtrickle.pgt_stream_tables o ON o.pgt_id = od.pgt_id
         WHERE od.source_relid = d.source_relid AND od.pgt_id <> p_id;
        IF to_regclass(format('pgtrickle_changes.%I', 'changes_' || d.source_relid::text)) IS NOT NULL THEN
            EXECUTE format('DELETE FROM pgtrickle_changes.%I WHERE lsn <= $1', 'changes_' || d.source_relid::text)
              USING least(pos, coalesce(floor_lsn, pos));
        END IF;
    END LOOP;
    RETURN jsonb_build_object('sources', srcs, 'data_timestamp', now());
END
$$;

-- Change-buffer rows of a stream table's table sources above its frontier: what pg_trickle's
-- scheduler sees as changes (src/scheduler/mod.rs, upstream_change_state). The double's
-- pending counters serve every other table; a TopK table, whose refresh stores no frontier,
-- needs this.
CREATE FUNCTION pgtrickle._pgt_unconsumed(p_id bigint) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    d record;
    n bigint;
    total bigint := 0;
BEGIN
    FOR d IN SELECT dep.source_relid, coalesce((st.frontier -> 'sources' -> dep.source_relid::text ->> 'lsn')::pg_lsn, '0/0') AS seen
             FROM pgtrickle.pgt_dependencies dep JOIN pgtrickle.pgt_stream_tables st ON st.pgt_id = dep.pgt_id
             WHERE dep.pgt_id = p_id AND dep.source_type = 'TABLE'
    LOOP
        IF to_regclass(format('pgtrickle_changes.%I', 'changes_' || d.source_relid::text)) IS NOT NULL THEN
            EXECUTE format('SELECT count(*) FROM pgtrickle_changes.%I WHERE lsn > $1', 'changes_' || d.source_relid::text)
              INTO n USING d.seen;
            total := total + n;
        END IF;
    END LOOP;
    RETURN total;
END
$$;

-- JSON text the way serde_json writes a `json!` value: compact, object keys in byte order
-- (serde_json without its `preserve_order` feature keeps objects in a BTreeMap; pg_trickle's
-- Cargo.toml does not enable it).
CREATE FUNCTION pgtrickle._pgt_json_compact(p jsonb) RETURNS text
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    CASE jsonb_typeof(p)
    WHEN 'object' THEN
        RETURN '{' || coalesce((SELECT string_agg(to_json(e.key)::text || ':' || pgtrickle._pgt_json_compact(e.value),
                                                  ',' ORDER BY e.key COLLATE "C")
                                FROM jsonb_each(p) e), '') || '}';
    WHEN 'array' THEN
        RETURN '[' || coalesce((SELECT string_agg(pgtrickle._pgt_json_compact(a.v), ',' ORDER BY a.o)
                                FROM jsonb_array_elements(p) WITH ORDINALITY a(v, o)), '') || ']';
    ELSE
        RETURN p::text;
    END CASE;
END
$$;

-- The `pg_trickle_alert` payload of a stream table's alert: pg_trickle src/monitor/alert.rs,
-- build_alert_payload (0.67.0): {"event", "pgt_schema", "pgt_name", "st"} merged with the
-- event's own keys (which win), and a payload over 7,900 bytes cut to its first 7,890 bytes
-- with "...}" appended: no longer valid JSON, and since the keys are in byte order, a long
-- `error` comes before the table's name, which is then cut off too. (Upstream slices the Rust
-- string at byte 7,890, which panics inside a multi-byte character; the double cuts before it.)
-- The 0.108.3 double replaces this function.
CREATE FUNCTION pgtrickle._pgt_alert_payload(p_event text, p_schema text, p_name text, p_extra jsonb DEFAULT '{}')
RETURNS text
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    payload text := pgtrickle._pgt_json_compact(jsonb_build_object(
        'event', p_event, 'pgt_schema', p_schema, 'pgt_name', p_name, 'st', p_schema || '.' || p_name)
        || coalesce(p_extra, '{}'));
    cut text;
BEGIN
    IF octet_length(payload) <= 7900 THEN
        RETURN payload;
    END IF;
    cut := left(payload, 7890);
    WHILE octet_length(cut) > 7890 LOOP
        cut := left(cut, -1);
    END LOOP;
    RETURN cut || '...}';
END
$$;

CREATE FUNCTION pgtrickle._pgt_notify_full_refresh(p_id bigint, p_rows bigint) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    st pgtrickle.pgt_stream_tables;
    pooled boolean;
BEGIN
    SELECT * INTO st FROM pgtrickle.pgt_stream_tables WHERE pgt_id = p_id;
    IF lower(coalesce(current_setting('pg_trickle.user_triggers', true), 'auto')) = 'off'
       OR NOT EXISTS (SELECT 1 FROM pg_trigger t WHERE t.tgrelid = st.pgt_relid
                      AND NOT t.tgisinternal AND t.tgname NOT LIKE 'pgt_%'
                      AND t.tgname NOT LIKE 'pg_trickle_%') THEN
        RETURN;
    END IF;
    pooled := st.pooler_compatibility_mode OR (p_rows IS NOT NULL AND lower(coalesce(
        current_setting('pg_trickle.connection_pooler_mode', true), '')) = 'transaction');
    IF pooled THEN
        RETURN;
    END IF;
    PERFORM pg_notify('pg_trickle_refresh',
        format('{"stream_table": "%s", "schema": "%s", "mode": "FULL"', st.pgt_name, st.pgt_schema)
        || CASE WHEN p_rows IS NULL THEN '' ELSE format(', "rows": %s', p_rows) END || '}');
END
$$;

CREATE FUNCTION pgtrickle._pgt_immediate_rebuild(p_id bigint) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pgtrickle._pgt_apply(p_id, true);
    UPDATE pgtrickle.pgt_stream_tables
       SET data_timestamp = now(), last_refresh_at = now(), is_populated = true,
           frontier = pgtrickle._pgt_new_frontier(p_id)
     WHERE pgt_id = p_id;
END
$$;
-- The test of pg_trickle src/api/helpers.rs, detect_select_star: a `*` outside parentheses
-- between the first SELECT and the first FROM outside parentheses after it (count(*) is
-- not one; literals and comments are not skipped, as upstream does not skip them).
CREATE FUNCTION pgtrickle._uses_select_star(p_query text) RETURNS boolean
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    u text := upper(coalesce(p_query, ''));
    rest text;
    depth integer := 0;
    n integer;
    i integer;
    ch text;
    from_at integer;
BEGIN
    IF position('*' IN u) = 0 OR position('SELECT' IN u) = 0 THEN
        RETURN false;
    END IF;
    rest := substr(u, position('SELECT' IN u) + 6);
    n := length(rest);
    FOR i IN 1 .. n LOOP
        ch := substr(rest, i, 1);
        IF ch = '(' THEN
            depth := depth + 1;
        ELSIF ch = ')' THEN
            depth := depth - 1;
        END IF;
        IF depth = 0 AND substr(rest, i, 4) = 'FROM'
           AND (i = 1 OR substr(rest, i - 1, 1) !~ '[A-Z0-9]')
           AND (i + 4 > n OR substr(rest, i + 4, 1) !~ '[A-Z0-9]') THEN
            from_at := i;
            EXIT;
        END IF;
    END LOOP;
    IF from_at IS NULL THEN
        RETURN false;
    END IF;
    depth := 0;
    FOR i IN 1 .. from_at - 1 LOOP
        ch := substr(rest, i, 1);
        IF ch = '(' THEN
            depth := depth + 1;
        ELSIF ch = ')' THEN
            depth := depth - 1;
        ELSIF ch = '*' AND depth = 0 THEN
            RETURN true;
        END IF;
    END LOOP;
    RETURN false;
END
$$;

-- ---------------------------------------------------------------------------------------
-- create_stream_table (pg_trickle src/api/alter.rs, create_stream_table_impl)
-- ---------------------------------------------------------------------------------------
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
    sink text DEFAULT NULL,
    ducklake_sink_path text DEFAULT NULL,
    ducklake_sink_table_id bigint DEFAULT NULL) RETURNS void
LANGUAGE plpgsql AS $$
#variable_conflict use_variable
DECLARE
    v_mode text;
    v_diamond record;
    v_nsp text;
    v_rel text;
    v_schedule text;
    v_cdc text;
    a record;
    v_backend text;
    v_relid oid;
    v_id bigint;
    v_part text := nullif(btrim(partition_by), '');
    v_blocker text;
BEGIN
    -- Order of checks as upstream (pg_trickle src/api/alter.rs, create_stream_table_impl): mode → diamond → name → schedule → cdc → query
    -- → append_only → duplicate → partition_by.
    v_mode := pgtrickle._normalize_mode(refresh_mode);
    v_diamond := pgtrickle._normalize_diamond(diamond_consistency, diamond_schedule_policy);
    IF name IS NULL OR btrim(name) = '' THEN
        PERFORM pgtrickle._invalid('stream table name cannot be empty');
    END IF;
    SELECT p.nsp, p.rel INTO v_nsp, v_rel FROM pgtrickle._parse_name(name) p;
    -- Any spelling is accepted here: the storage table is created with quoted identifiers and
    -- then found again with an unquoted regclass cast (below), as upstream does.
    IF octet_length(v_rel) > 63 OR octet_length(v_nsp) > 63 THEN
        PERFORM pgtrickle._invalid(format('unsupported stream table name ''%s'': only lowercase unquoted identifiers ([a-z_][a-z0-9_]*, at most 63 bytes) are supported', name));
    END IF;
    IF v_mode = 'IMMEDIATE' THEN
        v_schedule := NULL;
    ELSE
        v_schedule := pgtrickle._validate_schedule(schedule);
    END IF;
    v_cdc := pgtrickle._normalize_cdc_mode(cdc_mode, v_mode);
    IF query IS NULL THEN
        PERFORM pgtrickle._invalid('query cannot be NULL');
    END IF;
    -- AUTO is stored as DIFFERENTIAL, but where the incremental parser refuses a query AUTO
    -- falls back to FULL (validate_and_parse_query): the analysis is told.
    a := pgtrickle._analyze_query(query, CASE WHEN upper(btrim(coalesce(refresh_mode, 'AUTO'))) = 'AUTO'
                                              THEN 'AUTO' ELSE v_mode END);
    v_blocker := pgtrickle._differential_blocker(a.src_oids, a.src_types);
    IF v_blocker IS NOT NULL AND v_mode IN ('DIFFERENTIAL', 'IMMEDIATE') THEN
        IF v_mode = 'DIFFERENTIAL' AND upper(btrim(coalesce(refresh_mode, 'AUTO'))) = 'AUTO' THEN
            RAISE WARNING '[pg_trickle] Falling back to FULL refresh: query references materialized views or foreign tables (unsupported operator for DIFFERENTIAL mode: %).', v_blocker;
            v_mode := 'FULL';
        ELSE
            RAISE EXCEPTION USING ERRCODE = '0A000',
                MESSAGE = 'unsupported operator for DIFFERENTIAL mode: ' || v_blocker;
        END IF;
    END IF;
    IF pgtrickle._uses_select_star(query) THEN
        RAISE WARNING 'pg_trickle: defining query uses SELECT *. If source table columns are added or removed, the stream table will require reinitialization. Consider listing columns explicitly for resilience against schema changes.';
    END IF;
    IF append_only THEN
        IF v_mode IN ('FULL', 'IMMEDIATE') THEN
            PERFORM pgtrickle._invalid(format('append_only is not supported with %s refresh mode. Use DIFFERENTIAL or AUTO refresh mode.', v_mode));
        END IF;
        IF a.keyless THEN
            PERFORM pgtrickle._invalid('append_only is not supported when a source table has no primary key. Add a primary key or disable append_only.');
        END IF;
    END IF;
    IF EXISTS (SELECT 1 FROM pgtrickle.pgt_stream_tables s WHERE s.pgt_schema = v_nsp AND s.pgt_name = v_rel) THEN
        RAISE EXCEPTION USING ERRCODE = '42P07',
            MESSAGE = format('stream table already exists: %s.%s', v_nsp, v_rel);
    END IF;
    IF v_part IS NOT NULL THEN
        IF v_mode = 'IMMEDIATE' THEN
            PERFORM pgtrickle._invalid('partition_by is not supported with IMMEDIATE refresh mode');
        END IF;
        PERFORM pgtrickle._parse_partition(v_part, a.col_names);
    END IF;
    IF max_differential_joins < 0 THEN
        PERFORM pgtrickle._invalid('max_differential_joins must be >= 0');
    END IF;
    IF max_delta_fraction < 0 THEN
        PERFORM pgtrickle._invalid('max_delta_fraction must be >= 0');
    END IF;
    IF output_distribution_column IS NOT NULL THEN
        PERFORM pgtrickle._invalid('output_distribution_column requires Citus to be installed and loaded');
    END IF;
    v_backend := lower(btrim(coalesce(storage_backend, 'heap')));
    IF v_backend NOT IN ('heap', 'citus', 'pg_mooncake', 'none') THEN
        PERFORM pgtrickle._invalid(format('invalid storage_backend value: ''%s'' (expected ''heap'', ''citus'', ''pg_mooncake'', or ''none'')', storage_backend));
    ELSIF v_backend IN ('citus', 'pg_mooncake') THEN
        PERFORM pgtrickle._invalid(format('storage_backend = ''%s'' requires the %s extension to be installed', v_backend, v_backend));
    END IF;
    IF sink IS NOT NULL AND lower(btrim(sink)) <> 'none' THEN
        IF lower(btrim(sink)) IN ('ducklake', 'append', 'replace') THEN
            PERFORM pgtrickle._invalid(format('sink = ''%s'' requires DuckLake (pg_duckdb) to be installed and loaded', sink));
        END IF;
        PERFORM pgtrickle._invalid(format('invalid sink value: ''%s'' (expected ''ducklake'', ''append'', ''replace'', or ''none'')', sink));
    END IF;

    v_relid := pgtrickle._build_storage(v_nsp, v_rel, a.col_names, a.col_types, a.has_count,
                                        coalesce(temporal, false), v_part, a.keyless);
    -- pg_trickle src/api/helpers.rs, get_table_oid: `(schema || '.' || name)::regclass`, so a
    -- name that only resolves when quoted (upper case, spaces) fails with PostgreSQL's own error.
    v_relid := (v_nsp || '.' || v_rel)::regclass::oid;
    -- install_dml_guard_trigger (same file) then names the guard function
    -- `<schema>._pgt_guard_<name>` with the name unquoted (double quotes removed): any ASCII
    -- character but a letter, digit, `_` or `$` there is a syntax error.
    IF replace(v_rel, '"', '') ~ '[\x01-\x23\x25-\x2f\x3a-\x40\x5b-\x5e\x60\x7b-\x7f]' THEN
        RAISE EXCEPTION USING ERRCODE = '42601', MESSAGE = format('syntax error at or near "%s"',
            substring(replace(v_rel, '"', '') FROM '[\x01-\x23\x25-\x2f\x3a-\x40\x5b-\x5e\x60\x7b-\x7f]'));
    END IF;
    INSERT INTO pgtrickle.pgt_stream_tables (
        pgt_relid, pgt_name, pgt_schema, defining_query, original_query, schedule, refresh_mode,
        status, is_populated, topk_limit, topk_order_by, topk_offset, diamond_consistency,
        diamond_schedule_policy, has_keyless_source, requested_cdc_mode, is_append_only,
        max_differential_joins, max_delta_fraction, pooler_compatibility_mode, st_partition_key,
        temporal_mode, storage_backend, defining_query_hash)
    VALUES (
        v_relid, v_rel, v_nsp, a.defining_query, a.original_query, v_schedule, v_mode,
        'INITIALIZING', false, a.topk_limit, a.topk_order_by, a.topk_offset, v_diamond.consistency,
        v_diamond.policy, a.keyless, v_cdc, coalesce(append_only, false),
        nullif(max_differential_joins, 0), nullif(max_delta_fraction, 0),
        coalesce(pooler_compatibility_mode, false), v_part,
        coalesce(temporal, false), v_backend, hashtextextended(a.defining_query, 0))
    RETURNING pgt_id INTO v_id;
    PERFORM pgtrickle._install_dependencies(v_id, a.src_oids, a.src_types, a.src_cols, v_cdc);

    IF coalesce(initialize, true) THEN
        PERFORM pgtrickle._pgt_apply(v_id, true);
        UPDATE pgtrickle.pgt_stream_tables SET
            status = 'ACTIVE', is_populated = true, data_timestamp = now(), last_refresh_at = now(),
            consecutive_errors = 0,
            -- initialize_st seeds the frontier with table sources only: 'initial' marks it
            -- empty for a table that reads only stream tables.
            frontier = pgtrickle._pgt_new_frontier(v_id)
                       || CASE WHEN 'TABLE' = ANY (a.src_types) OR 'FOREIGN_TABLE' = ANY (a.src_types)
                               THEN '{}'::jsonb ELSE '{"initial": true}'::jsonb END,
            effective_refresh_mode = CASE WHEN a.topk_limit IS NOT NULL THEN 'TOP_K' ELSE v_mode END
        WHERE pgt_id = v_id;
        INSERT INTO pgtrickle.pgt_refresh_history
            (pgt_id, data_timestamp, start_time, end_time, action, rows_inserted, rows_deleted,
             status, initiated_by)
        VALUES (v_id, now(), now(), now(), 'FULL', 0, 0, 'COMPLETED', 'INITIAL');
    END IF;
    IF v_schedule IS NULL AND v_mode <> 'IMMEDIATE' THEN
        RAISE NOTICE 'Stream table %.% has a CALCULATED schedule but no downstream stream tables yet; it refreshes at the fallback interval (pg_trickle.default_schedule_seconds) when its sources change.', v_nsp, v_rel;
    END IF;
    RAISE INFO 'Stream table %.% created (pgt_id=%, mode=%, initialized=%)',
        v_nsp, v_rel, v_id, v_mode, CASE WHEN coalesce(initialize, true) THEN 'true' ELSE 'false' END;
END
$$;

-- create_stream_table_if_not_exists (pg_trickle src/api/create.rs, create_stream_table_if_not_exists_impl)
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
    sink text DEFAULT NULL,
    ducklake_sink_path text DEFAULT NULL,
    ducklake_sink_table_id bigint DEFAULT NULL) RETURNS void
LANGUAGE plpgsql AS $$
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
        output_distribution_column, temporal, storage_backend, sink, ducklake_sink_path,
        ducklake_sink_table_id);
END
$$;

-- ---------------------------------------------------------------------------------------
-- refresh_stream_table (pg_trickle src/api/refresh_ops.rs, refresh_stream_table_impl)
-- ---------------------------------------------------------------------------------------
CREATE FUNCTION pgtrickle.refresh_stream_table(name text) RETURNS void
LANGUAGE plpgsql STRICT AS $$
DECLARE
    p record;
    st pgtrickle.pgt_stream_tables;
    shown text;
    res record;
BEGIN
    IF pg_is_in_recovery() THEN
        PERFORM pgtrickle._invalid('Cannot refresh stream tables on a read replica. The server is in recovery mode (pg_is_in_recovery() = true). Run refresh on the primary server instead.');
    END IF;
    p := pgtrickle._parse_name(name);
    SELECT * INTO st FROM pgtrickle.pgt_stream_tables s WHERE s.pgt_schema = p.nsp AND s.pgt_name = p.rel;
    IF NOT FOUND THEN
        PERFORM pgtrickle._not_found(p.nsp, p.rel);
    END IF;
    shown := CASE WHEN st.pgt_schema = 'public' THEN st.pgt_name ELSE st.pgt_schema || '.' || st.pgt_name END;
    IF st.status = 'SUSPENDED' THEN
        PERFORM pgtrickle._invalid(format('stream table %s.%s is suspended ; use pgtrickle.resume_stream_table(''%s'') first', st.pgt_schema, st.pgt_name, shown));
    ELSIF st.status = 'ERROR' THEN
        PERFORM pgtrickle._invalid(format('stream table %s.%s is in error state ; use pgtrickle.resume_stream_table(''%s'') first', st.pgt_schema, st.pgt_name, shown));
    END IF;
    IF NOT pg_try_advisory_xact_lock(st.pgt_id) THEN
        RAISE NOTICE 'refresh skipped: %.% — another refresh is already in progress', st.pgt_schema, st.pgt_name;
        RETURN;
    END IF;
    PERFORM 1 FROM pgtrickle.pgt_stream_tables s WHERE s.pgt_id = st.pgt_id FOR UPDATE SKIP LOCKED;
    IF NOT FOUND THEN
        RAISE NOTICE 'refresh skipped: %.% — another refresh is already in progress', st.pgt_schema, st.pgt_name;
        RETURN;
    END IF;
    res := pgtrickle._pgt_refresh(st.pgt_id, 'MANUAL');
    IF st.topk_limit IS NOT NULL THEN
        -- The TopK path sends no pg_trickle_refresh (only execute_manual_full_refresh does).
        RAISE INFO 'Stream table %.% refreshed (TopK MERGE: +% -%)', st.pgt_schema, st.pgt_name,
            res.rows_inserted, res.rows_deleted;
        RETURN;
    END IF;
    IF res.action = 'FULL' THEN
        PERFORM pgtrickle._pgt_notify_full_refresh(st.pgt_id, NULL);
    END IF;
    IF res.action = 'FULL' THEN
        RAISE INFO 'Stream table %.% refreshed (FULL)', st.pgt_schema, st.pgt_name;
    ELSE
        RAISE INFO 'Stream table %.% refreshed (DIFFERENTIAL: +% -%)', st.pgt_schema, st.pgt_name,
            res.rows_inserted, res.rows_deleted;
    END IF;
END
$$;

-- ---------------------------------------------------------------------------------------
-- drop_stream_table (pg_trickle src/api/alter.rs, drop_stream_table_impl_inner)
-- ---------------------------------------------------------------------------------------
-- As pg_trickle src/api/helpers.rs, check_stream_table_ownership: a superuser, or a role with
-- USAGE of the owning role (inherited membership; a NOINHERIT member does not pass).
CREATE FUNCTION pgtrickle._check_owner(st pgtrickle.pgt_stream_tables) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)
       AND NOT pg_has_role(current_user,
                           coalesce((SELECT relowner FROM pg_class WHERE oid = st.pgt_relid), 10), 'USAGE') THEN
        RAISE EXCEPTION USING ERRCODE = '42501', MESSAGE =
            format('permission denied: must be owner of stream table %s.%s', st.pgt_schema, st.pgt_name);
    END IF;
END
$$;

CREATE FUNCTION pgtrickle.drop_stream_table(name text, "cascade" boolean DEFAULT false) RETURNS void
LANGUAGE plpgsql STRICT AS $$
DECLARE
    p record;
    st pgtrickle.pgt_stream_tables;
    dependents text;
    d record;
BEGIN
    p := pgtrickle._parse_name(name);
    SELECT * INTO st FROM pgtrickle.pgt_stream_tables s WHERE s.pgt_schema = p.nsp AND s.pgt_name = p.rel;
    IF NOT FOUND THEN
        PERFORM pgtrickle._not_found(p.nsp, p.rel);
    END IF;
    PERFORM pgtrickle._check_owner(st);
    SELECT string_agg(s.pgt_schema || '.' || s.pgt_name, ', ' ORDER BY s.pgt_schema, s.pgt_name)
      INTO dependents
      FROM pgtrickle.pgt_stream_tables s
     WHERE s.pgt_id IN (SELECT dd.pgt_id FROM pgtrickle.pgt_dependencies dd
                         WHERE dd.source_relid = st.pgt_relid AND dd.pgt_id <> st.pgt_id);
    IF dependents IS NOT NULL THEN
        IF NOT "cascade" THEN
            PERFORM pgtrickle._invalid(format('stream table %s.%s has dependent stream tables: %s. Use cascade => true to drop them automatically.',
                st.pgt_schema, st.pgt_name, dependents));
        END IF;
        FOR d IN
            SELECT s.pgt_schema, s.pgt_name FROM pgtrickle.pgt_stream_tables s
             WHERE s.pgt_id IN (SELECT dd.pgt_id FROM pgtrickle.pgt_dependencies dd
                                 WHERE dd.source_relid = st.pgt_relid AND dd.pgt_id <> st.pgt_id)
             ORDER BY s.pgt_id
        LOOP
            -- A dependent may already be gone through an earlier recursive drop.
            IF EXISTS (SELECT 1 FROM pgtrickle.pgt_stream_tables s
                        WHERE s.pgt_schema = d.pgt_schema AND s.pgt_name = d.pgt_name) THEN
                PERFORM pgtrickle.drop_stream_table(d.pgt_schema || '.' || d.pgt_name, true);
            END IF;
        END LOOP;
    END IF;
    PERFORM pgtrickle._remove_dependencies(st.pgt_id);
    DELETE FROM pgtrickle.pgt_stream_tables WHERE pgt_id = st.pgt_id;
    PERFORM pgtrickle._drop_storage(st.pgt_schema, st.pgt_name);
    RAISE INFO 'Stream table %.% dropped (pgt_id=%)', st.pgt_schema, st.pgt_name, st.pgt_id;
END
$$;

-- ---------------------------------------------------------------------------------------
-- resume_stream_table (pg_trickle src/api/alter.rs, resume_stream_table_impl)
-- ---------------------------------------------------------------------------------------
CREATE FUNCTION pgtrickle.resume_stream_table(name text) RETURNS void
LANGUAGE plpgsql STRICT AS $$
DECLARE
    p record;
    st pgtrickle.pgt_stream_tables;
BEGIN
    p := pgtrickle._parse_name(name);
    SELECT * INTO st FROM pgtrickle.pgt_stream_tables s WHERE s.pgt_schema = p.nsp AND s.pgt_name = p.rel;
    IF NOT FOUND THEN
        PERFORM pgtrickle._not_found(p.nsp, p.rel);
    END IF;
    IF st.status NOT IN ('SUSPENDED', 'ERROR') THEN
        PERFORM pgtrickle._invalid(format('stream table %s.%s is not suspended or in error state (current status: %s)',
            st.pgt_schema, st.pgt_name, st.status));
    END IF;
    UPDATE pgtrickle.pgt_stream_tables
       SET status = 'ACTIVE', consecutive_errors = 0, last_error_message = NULL, last_error_at = NULL
     WHERE pgt_id = st.pgt_id;
    -- pg_trickle src/monitor/alert.rs, alert_resumed (from src/api/alter.rs,
    -- resume_stream_table_impl): "previous_status" is always SUSPENDED, and a table in
    -- pooler-compatibility mode sends nothing.
    IF NOT st.pooler_compatibility_mode THEN
        PERFORM pg_notify('pg_trickle_alert', json_build_object(
            'event', 'resumed', 'pgt_schema', st.pgt_schema, 'pgt_name', st.pgt_name,
            'st', st.pgt_schema || '.' || st.pgt_name, 'previous_status', 'SUSPENDED')::text);
    END IF;
    RAISE INFO 'Stream table %.% resumed (pgt_id=%)', st.pgt_schema, st.pgt_name, st.pgt_id;
END
$$;

-- ---------------------------------------------------------------------------------------
-- Event triggers: a plain DROP TABLE of a storage table removes its catalog row; dropping
-- a source of an ACTIVE stream table puts it into ERROR.
-- ---------------------------------------------------------------------------------------
-- pg_trickle src/hooks.rs, pg_trickle_on_sql_drop: a dropped storage table takes its catalog
-- row (handle_st_storage_dropped; the stream tables reading it are left alone); a dropped
-- source table (handle_dropped_table: dependencies of type TABLE / FOREIGN_TABLE) or view
-- (handle_dropped_view: VIEW) sets every direct dependent, whatever its status, to ERROR
-- with no message (StreamTableMeta::update_status). The cascade that follows
-- (find_transitive_downstream_sts) looks for readers of those stream tables with
-- find_downstream_pgt_ids, which matches only TABLE / FOREIGN_TABLE dependencies, while a
-- stream table reading another one is recorded as STREAM_TABLE: it reaches no one, so stream
-- tables further downstream keep their status (seen on a real 0.67.0 server). Other object
-- types (materialized views, foreign tables) are not handled.
CREATE FUNCTION pgtrickle._on_sql_drop() RETURNS event_trigger
LANGUAGE plpgsql AS $$
DECLARE
    obj record;
    st record;
    hit bigint[];
BEGIN
    IF current_setting('pg_trickle.internal_drop', true) = 'true' THEN
        RETURN;
    END IF;
    FOR obj IN
        SELECT * FROM pg_event_trigger_dropped_objects()
        WHERE object_type IN ('table', 'view') AND NOT is_temporary
    LOOP
        IF obj.object_type = 'table'
           AND EXISTS (SELECT 1 FROM pgtrickle.pgt_stream_tables WHERE pgt_relid = obj.objid) THEN
            FOR st IN SELECT * FROM pgtrickle.pgt_stream_tables WHERE pgt_relid = obj.objid LOOP
                PERFORM pgtrickle._remove_dependencies(st.pgt_id);
                DELETE FROM pgtrickle.pgt_stream_tables WHERE pgt_id = st.pgt_id;
                IF to_regprocedure(format('%I.%I()', st.pgt_schema, pgtrickle._guard_name(st.pgt_relid))) IS NOT NULL THEN
                    EXECUTE format('DROP FUNCTION %I.%I()', st.pgt_schema, pgtrickle._guard_name(st.pgt_relid));
                END IF;
            END LOOP;
            CONTINUE;
        END IF;
        SELECT array_agg(d.pgt_id) INTO hit FROM pgtrickle.pgt_dependencies d
        WHERE d.source_relid = obj.objid
          AND d.source_type = ANY (CASE WHEN obj.object_type = 'table'
                                        THEN ARRAY['TABLE', 'FOREIGN_TABLE'] ELSE ARRAY['VIEW'] END);
        UPDATE pgtrickle.pgt_stream_tables s SET status = 'ERROR' WHERE s.pgt_id = ANY (hit);
        DELETE FROM pgtrickle_changes.pgt_pending WHERE source_relid = obj.objid;
    END LOOP;
END
$$;

CREATE FUNCTION pgtrickle._on_ddl_command_end() RETURNS event_trigger
LANGUAGE plpgsql AS $$
BEGIN
    -- Upstream tracks source DDL here (needs_reinit, block_source_ddl); the double does not.
    RETURN;
END
$$;

CREATE EVENT TRIGGER pg_trickle_drop_tracker ON sql_drop
    EXECUTE FUNCTION pgtrickle._on_sql_drop();
CREATE EVENT TRIGGER pg_trickle_ddl_tracker ON ddl_command_end
    EXECUTE FUNCTION pgtrickle._on_ddl_command_end();
-- ---------------------------------------------------------------------------------------
-- alter_stream_table (pg_trickle src/api/alter.rs, alter_stream_table_impl)
-- ---------------------------------------------------------------------------------------
-- Rebuilds storage for a new query or partition key; keeps pgt_id. Returns the schema-change
-- class ('same', 'compatible', 'incompatible (full rebuild)').
CREATE FUNCTION pgtrickle._rebuild_for_query(p_id bigint, p_query text, p_partition text,
                                             p_force_recreate boolean) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    st pgtrickle.pgt_stream_tables;
    a record;
    old_cols text[];
    old_types text[];
    old_has_count boolean;
    change text;
    i integer;
    new_relid oid;
    old_srcs oid[];
    old_src oid;
    blocker text;
BEGIN
    SELECT * INTO st FROM pgtrickle.pgt_stream_tables WHERE pgt_id = p_id;
    a := pgtrickle._analyze_query(p_query, st.refresh_mode);
    IF st.refresh_mode IN ('DIFFERENTIAL', 'IMMEDIATE') THEN
        -- No AUTO fallback here: the new query must suit the stored mode.
        blocker := pgtrickle._differential_blocker(a.src_oids, a.src_types);
        IF blocker IS NOT NULL THEN
            RAISE EXCEPTION USING ERRCODE = '0A000',
                MESSAGE = 'unsupported operator for DIFFERENTIAL mode: ' || blocker;
        END IF;
    END IF;
    SELECT coalesce(array_agg(attname::text ORDER BY attnum), '{}'),
           coalesce(array_agg(format_type(atttypid, NULL) ORDER BY attnum), '{}')
      INTO old_cols, old_types
      FROM pg_attribute
     WHERE attrelid = st.pgt_relid AND attnum > 0 AND NOT attisdropped AND attname NOT LIKE '\_\_pgt\_%';
    old_has_count := EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = st.pgt_relid
                             AND attname = '__pgt_count' AND NOT attisdropped);
    IF old_cols = a.col_names AND old_types = a.col_types THEN
        change := 'same';
    ELSIF NOT EXISTS (
        SELECT 1 FROM unnest(a.col_names, a.col_types) n(c, t)
        JOIN unnest(old_cols, old_types) o(c, t) ON o.c = n.c WHERE o.t <> n.t) THEN
        change := 'compatible';
    ELSE
        change := 'incompatible (full rebuild)';
    END IF;
    -- Partitioned storage cannot be re-keyed in place.
    IF p_force_recreate OR change = 'incompatible (full rebuild)' THEN
        PERFORM pgtrickle._drop_storage(st.pgt_schema, st.pgt_name);
        new_relid := pgtrickle._build_storage(st.pgt_schema, st.pgt_name, a.col_names, a.col_types,
                                              a.has_count, st.temporal_mode, p_partition, a.keyless);
        -- Stream tables reading this one follow the new OID.
        UPDATE pgtrickle.pgt_dependencies SET source_relid = new_relid WHERE source_relid = st.pgt_relid;
        UPDATE pgtrickle_changes.pgt_pending SET source_relid = new_relid WHERE source_relid = st.pgt_relid;
        IF EXISTS (SELECT 1 FROM pgtrickle.pgt_dependencies WHERE source_relid = new_relid) THEN
            PERFORM pgtrickle._install_capture(new_relid);
        END IF;
        IF change = 'incompatible (full rebuild)' THEN
            RAISE WARNING 'pg_trickle: stream table %.% storage was dropped and recreated for an incompatible schema change; its OID changed.', st.pgt_schema, st.pgt_name;
        END IF;
    ELSE
        new_relid := st.pgt_relid;
        IF change = 'compatible' THEN
            FOR i IN 1 .. array_length(old_cols, 1) LOOP
                IF NOT old_cols[i] = ANY (a.col_names) THEN
                    EXECUTE format('ALTER TABLE %s DROP COLUMN %I', st.pgt_relid::regclass, old_cols[i]);
                END IF;
            END LOOP;
            FOR i IN 1 .. array_length(a.col_names, 1) LOOP
                IF NOT a.col_names[i] = ANY (old_cols) THEN
                    EXECUTE format('ALTER TABLE %s ADD COLUMN %I %s', st.pgt_relid::regclass, a.col_names[i], a.col_types[i]);
                END IF;
            END LOOP;
        END IF;
        IF a.has_count AND NOT old_has_count THEN
            EXECUTE format('ALTER TABLE %s ADD COLUMN __pgt_count bigint NOT NULL DEFAULT 0', st.pgt_relid::regclass);
        ELSIF old_has_count AND NOT a.has_count THEN
            EXECUTE format('ALTER TABLE %s DROP COLUMN __pgt_count', st.pgt_relid::regclass);
        END IF;
    END IF;
    -- Rewire dependencies; capture triggers are dropped only from sources no longer read
    -- (DROP TRIGGER would lock a source that stays in use).
    SELECT coalesce(array_agg(source_relid), '{}') INTO old_srcs
      FROM pgtrickle.pgt_dependencies WHERE pgt_id = p_id;
    DELETE FROM pgtrickle.pgt_dependencies WHERE pgt_id = p_id;
    DELETE FROM pgtrickle_changes.pgt_pending WHERE pgt_id = p_id;
    UPDATE pgtrickle.pgt_stream_tables SET
        pgt_relid = new_relid, defining_query = a.defining_query, original_query = a.original_query,
        topk_limit = a.topk_limit, topk_order_by = a.topk_order_by, topk_offset = a.topk_offset,
        has_keyless_source = a.keyless, st_partition_key = nullif(btrim(p_partition), ''),
        defining_query_hash = hashtextextended(a.defining_query, 0)
    WHERE pgt_id = p_id;
    PERFORM pgtrickle._install_dependencies(p_id, a.src_oids, a.src_types, a.src_cols, st.requested_cdc_mode);
    FOREACH old_src IN ARRAY old_srcs LOOP
        PERFORM pgtrickle._remove_capture(old_src);
    END LOOP;
    RETURN change;
END
$$;

-- Full repopulation without a history row (alter: query / mode / partition changes).
-- effective_refresh_mode is left as it was: upstream sets it at create (initialize_st) and
-- after each refresh, not when alter_stream_table repopulates. Upstream repopulates through
-- execute_manual_full_refresh (src/api/refresh_ops.rs), which runs defining_query: for a
-- TopK table that is the base query without its ORDER BY / LIMIT / OFFSET, so EVERY row of
-- it lands in the table, until the next refresh (a TopK MERGE) trims it to the top rows
-- (alter_stream_table_query, alter_stream_table_partition_key and the refresh-mode change
-- in src/api/alter.rs).
CREATE FUNCTION pgtrickle._repopulate(p_id bigint) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM set_config('pgtrickle_test.repopulating', 'on', true);
    PERFORM pgtrickle._pgt_apply(p_id, true);
    PERFORM set_config('pgtrickle_test.repopulating', '', true);
    UPDATE pgtrickle.pgt_stream_tables SET
        status = 'ACTIVE', is_populated = true, data_timestamp = now(), last_refresh_at = now(),
        consecutive_errors = 0, last_error_message = NULL, last_error_at = NULL,
        needs_reinit = false, frontier = pgtrickle._pgt_new_frontier(p_id)
    WHERE pgt_id = p_id;
END
$$;

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
    sink text DEFAULT NULL,
    ducklake_sink_path text DEFAULT NULL,
    ducklake_sink_table_id bigint DEFAULT NULL) RETURNS void
LANGUAGE plpgsql AS $$
#variable_conflict use_variable
DECLARE
    p record;
    st pgtrickle.pgt_stream_tables;
    was_error boolean;
    v_id bigint;
    change text;
    v_part text;
    v_word text;
    v_mode text;
    v_status text;
    v_diamond record;
    v_tier text;
    v_fuse text;
    v_action text;
    needs_repopulate boolean := false;
BEGIN
    p := pgtrickle._parse_name(name);
    SELECT * INTO st FROM pgtrickle.pgt_stream_tables s WHERE s.pgt_schema = p.nsp AND s.pgt_name = p.rel;
    IF NOT FOUND THEN
        PERFORM pgtrickle._not_found(p.nsp, p.rel);
    END IF;
    PERFORM pgtrickle._check_owner(st);
    v_id := st.pgt_id;

    -- query
    IF query IS NOT NULL THEN
        change := pgtrickle._rebuild_for_query(v_id, query, st.st_partition_key, false);
        PERFORM pgtrickle._repopulate(v_id);
        RAISE WARNING 'pg_trickle: stream table %.% ALTER QUERY applied a full refresh (schema change: %). Downstream consumers see the new result at once.',
            st.pgt_schema, st.pgt_name, change;
        SELECT * INTO st FROM pgtrickle.pgt_stream_tables WHERE pgt_id = v_id;
    END IF;

    -- partition_by: '' removes partitioning, a different key rebuilds the storage.
    IF partition_by IS NOT NULL THEN
        v_part := nullif(btrim(partition_by), '');
        IF v_part IS DISTINCT FROM st.st_partition_key THEN
            IF v_part IS NOT NULL AND st.refresh_mode = 'IMMEDIATE' THEN
                PERFORM pgtrickle._invalid('partition_by is not supported with IMMEDIATE refresh mode');
            END IF;
            PERFORM pgtrickle._rebuild_for_query(v_id, pgtrickle._pgt_full_query(v_id), v_part, true);
            PERFORM pgtrickle._repopulate(v_id);
            SELECT * INTO st FROM pgtrickle.pgt_stream_tables WHERE pgt_id = v_id;
        END IF;
    END IF;

    -- ERR-1c (pg_trickle src/api/alter.rs, alter_stream_table_impl) looks at the status as it
    -- stands after the query / partition steps, before `status` is applied.
    was_error := st.status = 'ERROR';

    -- cdc_mode
    IF cdc_mode IS NOT NULL THEN
        UPDATE pgtrickle.pgt_stream_tables
           SET requested_cdc_mode = pgtrickle._normalize_cdc_mode(cdc_mode, st.refresh_mode)
         WHERE pgt_id = v_id;
    END IF;

    -- schedule
    IF schedule IS NOT NULL THEN
        UPDATE pgtrickle.pgt_stream_tables SET schedule = pgtrickle._validate_schedule(schedule)
         WHERE pgt_id = v_id;
    END IF;

    -- refresh_mode: upstream writes the upper-cased input word (AUTO → CHECK violation).
    IF refresh_mode IS NOT NULL THEN
        v_mode := pgtrickle._normalize_mode(refresh_mode);
        v_word := upper(btrim(refresh_mode));
        SELECT * INTO st FROM pgtrickle.pgt_stream_tables WHERE pgt_id = v_id;
        IF v_mode IS DISTINCT FROM st.refresh_mode THEN
            IF v_mode = 'IMMEDIATE' AND st.st_partition_key IS NOT NULL THEN
                PERFORM pgtrickle._invalid('partition_by is not supported with IMMEDIATE refresh mode');
            END IF;
            UPDATE pgtrickle.pgt_stream_tables SET
                refresh_mode = v_word,
                schedule = CASE WHEN v_mode = 'IMMEDIATE' THEN NULL
                                WHEN st.refresh_mode = 'IMMEDIATE' AND alter_stream_table.schedule IS NULL THEN '1m'
                                ELSE pgt_stream_tables.schedule END
             WHERE pgt_id = v_id;
            PERFORM pgtrickle._repopulate(v_id);
            RAISE WARNING 'pg_trickle: stream table %.% refresh mode changed from % to %; a full refresh was applied. Check the new mode with pgtrickle.explain_refresh_mode().',
                st.pgt_schema, st.pgt_name, st.refresh_mode, v_word;
        ELSE
            UPDATE pgtrickle.pgt_stream_tables SET refresh_mode = v_word WHERE pgt_id = v_id;
        END IF;
    END IF;

    -- status
    IF status IS NOT NULL THEN
        v_status := upper(btrim(status));
        IF v_status NOT IN ('INITIALIZING', 'ACTIVE', 'SUSPENDED', 'ERROR') THEN
            PERFORM pgtrickle._invalid(format('unknown status: %s', v_status));
        END IF;
        UPDATE pgtrickle.pgt_stream_tables SET
            status = v_status,
            consecutive_errors = CASE WHEN v_status = 'ACTIVE' THEN 0 ELSE consecutive_errors END
         WHERE pgt_id = v_id;
    END IF;

    -- diamond settings
    IF diamond_consistency IS NOT NULL OR diamond_schedule_policy IS NOT NULL THEN
        SELECT * INTO st FROM pgtrickle.pgt_stream_tables WHERE pgt_id = v_id;
        v_diamond := pgtrickle._normalize_diamond(coalesce(diamond_consistency, st.diamond_consistency),
                                                 coalesce(diamond_schedule_policy, st.diamond_schedule_policy));
        UPDATE pgtrickle.pgt_stream_tables
           SET diamond_consistency = v_diamond.consistency, diamond_schedule_policy = v_diamond.policy
         WHERE pgt_id = v_id;
    END IF;

    -- append_only
    IF append_only IS NOT NULL THEN
        SELECT * INTO st FROM pgtrickle.pgt_stream_tables WHERE pgt_id = v_id;
        IF append_only AND st.refresh_mode IN ('FULL', 'IMMEDIATE') THEN
            PERFORM pgtrickle._invalid(format('append_only is not supported with %s refresh mode. Use DIFFERENTIAL or AUTO refresh mode.', st.refresh_mode));
        END IF;
        IF append_only AND st.has_keyless_source THEN
            PERFORM pgtrickle._invalid('append_only is not supported when a source table has no primary key. Add a primary key or disable append_only.');
        END IF;
        UPDATE pgtrickle.pgt_stream_tables SET is_append_only = append_only WHERE pgt_id = v_id;
    END IF;

    IF pooler_compatibility_mode IS NOT NULL THEN
        UPDATE pgtrickle.pgt_stream_tables SET pooler_compatibility_mode = alter_stream_table.pooler_compatibility_mode
         WHERE pgt_id = v_id;
    END IF;

    IF tier IS NOT NULL THEN
        v_tier := lower(btrim(tier));
        IF v_tier NOT IN ('hot', 'warm', 'cold', 'frozen') THEN
            PERFORM pgtrickle._invalid(format('invalid tier value: ''%s'' (expected ''hot'', ''warm'', ''cold'', or ''frozen'')', tier));
        END IF;
        UPDATE pgtrickle.pgt_stream_tables SET refresh_tier = v_tier WHERE pgt_id = v_id;
    END IF;

    IF fuse IS NOT NULL OR fuse_ceiling IS NOT NULL OR fuse_sensitivity IS NOT NULL THEN
        IF fuse IS NOT NULL THEN
            v_fuse := lower(btrim(fuse));
            IF v_fuse NOT IN ('off', 'on', 'auto') THEN
                PERFORM pgtrickle._invalid(format('invalid fuse value: ''%s'' (expected ''off'', ''on'', or ''auto'')', fuse));
            END IF;
        END IF;
        IF fuse_ceiling IS NOT NULL AND fuse_ceiling <= 0 THEN
            PERFORM pgtrickle._invalid('fuse_ceiling must be a positive integer');
        END IF;
        IF fuse_sensitivity IS NOT NULL AND fuse_sensitivity <= 0 THEN
            PERFORM pgtrickle._invalid('fuse_sensitivity must be a positive integer');
        END IF;
        UPDATE pgtrickle.pgt_stream_tables SET
            fuse_mode = coalesce(v_fuse, fuse_mode),
            fuse_ceiling = coalesce(alter_stream_table.fuse_ceiling, pgt_stream_tables.fuse_ceiling),
            fuse_sensitivity = coalesce(alter_stream_table.fuse_sensitivity, pgt_stream_tables.fuse_sensitivity)
         WHERE pgt_id = v_id;
    END IF;

    IF max_differential_joins IS NOT NULL THEN
        IF max_differential_joins < 0 THEN
            PERFORM pgtrickle._invalid('max_differential_joins must be >= 0');
        END IF;
        UPDATE pgtrickle.pgt_stream_tables SET max_differential_joins = nullif(alter_stream_table.max_differential_joins, 0)
         WHERE pgt_id = v_id;
    END IF;
    IF max_delta_fraction IS NOT NULL THEN
        IF max_delta_fraction < 0 THEN
            PERFORM pgtrickle._invalid('max_delta_fraction must be >= 0');
        END IF;
        UPDATE pgtrickle.pgt_stream_tables SET max_delta_fraction = nullif(alter_stream_table.max_delta_fraction, 0)
         WHERE pgt_id = v_id;
    END IF;

    IF post_refresh_action IS NOT NULL THEN
        v_action := lower(btrim(post_refresh_action));
        IF v_action NOT IN ('none', 'analyze', 'reindex', 'reindex_if_drift') THEN
            PERFORM pgtrickle._invalid(format('invalid post_refresh_action value: ''%s'' (expected ''none'', ''analyze'', ''reindex'', or ''reindex_if_drift'')', post_refresh_action));
        END IF;
        UPDATE pgtrickle.pgt_stream_tables SET post_refresh_action = v_action WHERE pgt_id = v_id;
    END IF;
    IF reindex_drift_threshold IS NOT NULL THEN
        IF reindex_drift_threshold <= 0 OR reindex_drift_threshold > 1 THEN
            PERFORM pgtrickle._invalid('reindex_drift_threshold must be in (0, 1]');
        END IF;
        UPDATE pgtrickle.pgt_stream_tables SET reindex_drift_threshold = alter_stream_table.reindex_drift_threshold
         WHERE pgt_id = v_id;
    END IF;
    IF sink IS NOT NULL AND lower(btrim(sink)) <> 'none' THEN
        PERFORM pgtrickle._invalid(format('sink = ''%s'' requires DuckLake (pg_duckdb) to be installed and loaded', sink));
    END IF;

    -- ERR-1c: a successful alter of an ERROR table clears the error and re-activates it,
    -- after (and whatever) the `status` argument set.
    IF was_error THEN
        UPDATE pgtrickle.pgt_stream_tables
           SET status = 'ACTIVE', consecutive_errors = 0, last_error_message = NULL, last_error_at = NULL
         WHERE pgt_id = v_id;
    END IF;
END
$$;
-- ---------------------------------------------------------------------------------------
-- create_or_replace_stream_table (pg_trickle src/api/create.rs, create_or_replace_stream_table_impl)
-- ---------------------------------------------------------------------------------------
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
    storage_backend text DEFAULT NULL) RETURNS void
LANGUAGE plpgsql AS $$
#variable_conflict use_variable
DECLARE
    p record;
    st pgtrickle.pgt_stream_tables;
    a record;
    q_changed boolean;
    v_ws constant text := E' \t\r\n';
    v_sched text;
    v_mode text;
    v_dc text;
    v_dp text;
    v_cdc text;
    v_ao boolean;
    v_pool boolean;
    c_config boolean;
BEGIN
    p := pgtrickle._parse_name(name);
    SELECT * INTO st FROM pgtrickle.pgt_stream_tables s WHERE s.pgt_schema = p.nsp AND s.pgt_name = p.rel;
    IF NOT FOUND THEN
        PERFORM pgtrickle.create_stream_table(name, query, schedule, refresh_mode, initialize,
            diamond_consistency, diamond_schedule_policy, cdc_mode, append_only,
            pooler_compatibility_mode, partition_by, max_differential_joins, max_delta_fraction,
            output_distribution_column, temporal, storage_backend);
        RETURN;
    END IF;
    -- As pg_trickle src/api/create.rs, create_or_replace_stream_table_impl: the arguments are
    -- not validated here, only compared (alter_stream_table validates what it is handed).
    -- Query: the rewritten text with any TopK clause stripped, against defining_query,
    -- whitespace-collapsed; topk_limit / topk_order_by / topk_offset are not compared, so a
    -- change only in ORDER BY / LIMIT / OFFSET is a no-op. The probe runs as FULL: the
    -- comparison itself applies no volatility rule.
    a := pgtrickle._analyze_query(query, 'FULL');
    q_changed := btrim(regexp_replace(st.defining_query, '\s+', ' ', 'g'), v_ws)
                 IS DISTINCT FROM btrim(regexp_replace(a.defining_query, '\s+', ' ', 'g'), v_ws);
    -- compute_config_diff: each value is handed on only when it differs; an omitted diamond
    -- or cdc argument never differs. The schedule is compared as trimmed raw text.
    IF schedule IS NOT NULL AND lower(btrim(schedule, v_ws)) = 'calculated' THEN
        v_sched := CASE WHEN st.schedule IS NOT NULL THEN schedule END;
    ELSIF schedule IS NOT NULL THEN
        v_sched := CASE WHEN st.schedule IS DISTINCT FROM btrim(schedule, v_ws) THEN schedule END;
    ELSE
        v_sched := CASE WHEN st.schedule IS NOT NULL THEN 'calculated' END;
    END IF;
    -- RefreshMode::from_str, unknown words counting as DIFFERENTIAL.
    v_mode := CASE WHEN upper(refresh_mode) IN ('FULL', 'IMMEDIATE') THEN upper(refresh_mode)
                   ELSE 'DIFFERENTIAL' END;
    v_mode := CASE WHEN v_mode IS DISTINCT FROM st.refresh_mode THEN refresh_mode END;
    v_dc := CASE WHEN diamond_consistency IS NOT NULL
                  AND CASE WHEN lower(diamond_consistency) = 'atomic' THEN 'atomic' ELSE 'none' END
                      IS DISTINCT FROM st.diamond_consistency
                 THEN diamond_consistency END;
    v_dp := CASE WHEN diamond_schedule_policy IS NOT NULL
                  AND coalesce(CASE WHEN lower(btrim(diamond_schedule_policy, v_ws)) IN ('fastest', 'slowest')
                                    THEN lower(btrim(diamond_schedule_policy, v_ws)) END, 'fastest')
                      IS DISTINCT FROM st.diamond_schedule_policy
                 THEN diamond_schedule_policy END;
    v_cdc := CASE WHEN cdc_mode IS NOT NULL
                   AND st.requested_cdc_mode IS DISTINCT FROM lower(btrim(cdc_mode, v_ws))
                  THEN cdc_mode END;
    v_ao := CASE WHEN coalesce(append_only, false) IS DISTINCT FROM st.is_append_only
                 THEN coalesce(append_only, false) END;
    v_pool := CASE WHEN coalesce(pooler_compatibility_mode, false) IS DISTINCT FROM st.pooler_compatibility_mode
                   THEN coalesce(pooler_compatibility_mode, false) END;
    c_config := num_nonnulls(v_sched, v_mode, v_dc, v_dp, v_cdc, v_ao, v_pool) > 0;
    IF NOT q_changed AND NOT c_config THEN
        RAISE INFO 'Stream table %.% already exists with identical definition — no changes made.', p.nsp, p.rel;
        RETURN;
    END IF;
    -- Status is kept; tier, fuse, partition_by, post-refresh and sink are never passed on;
    -- max_differential_joins / max_delta_fraction go along as given.
    PERFORM pgtrickle.alter_stream_table(
        name => name,
        query => CASE WHEN q_changed THEN query END,
        schedule => v_sched,
        refresh_mode => v_mode,
        diamond_consistency => v_dc,
        diamond_schedule_policy => v_dp,
        cdc_mode => v_cdc,
        append_only => v_ao,
        pooler_compatibility_mode => v_pool,
        max_differential_joins => max_differential_joins,
        max_delta_fraction => max_delta_fraction);
    RAISE INFO 'Stream table %.% replaced (query_changed=%, config_changed=%).', p.nsp, p.rel,
        CASE WHEN q_changed THEN 'true' ELSE 'false' END, CASE WHEN c_config THEN 'true' ELSE 'false' END;
END
$$;

-- ---------------------------------------------------------------------------------------
-- monitoring views (pg_trickle sql/archive/pg_trickle--0.67.0.sql, pg_stat_stream_tables and the views after it)
-- ---------------------------------------------------------------------------------------
CREATE FUNCTION pgtrickle._is_stale(p_schedule text, p_last timestamptz) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN p_schedule IS NOT NULL AND p_last IS NOT NULL
                     AND position(' ' IN p_schedule) = 0 AND position('@' IN p_schedule) = 0
                THEN extract(epoch FROM now() - p_last) > pgtrickle.parse_duration_seconds(p_schedule)
           END
$$;

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

CREATE VIEW pgtrickle.quick_health AS
SELECT c.total_stream_tables,
       c.error_tables,
       c.stale_tables,
       EXISTS (SELECT 1 FROM pg_stat_activity WHERE backend_type = 'pg_trickle scheduler') AS scheduler_running,
       CASE WHEN c.total_stream_tables = 0 THEN 'EMPTY'
            WHEN c.suspended_tables > 0 THEN 'CRITICAL'
            WHEN c.error_tables > 0 OR c.stale_tables > 0 THEN 'WARNING'
            ELSE 'OK' END AS status
FROM (
    SELECT count(*) AS total_stream_tables,
           count(*) FILTER (WHERE st.status = 'ERROR' OR st.consecutive_errors > 0) AS error_tables,
           count(*) FILTER (WHERE pgtrickle._is_stale(st.schedule, st.last_refresh_at)) AS stale_tables,
           count(*) FILTER (WHERE st.status = 'SUSPENDED') AS suspended_tables
    FROM pgtrickle.pgt_stream_tables st) c;

CREATE VIEW pgtrickle.pgt_cdc_status AS
SELECT st.pgt_schema, st.pgt_name, d.source_relid, c.relname::text AS source_name,
       n.nspname::text AS source_schema, d.cdc_mode, d.slot_name, d.decoder_confirmed_lsn,
       d.transition_started_at
FROM pgtrickle.pgt_dependencies d
JOIN pgtrickle.pgt_stream_tables st ON st.pgt_id = d.pgt_id
LEFT JOIN pg_class c ON c.oid = d.source_relid
LEFT JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE d.source_type = 'TABLE';

-- ---------------------------------------------------------------------------------------
-- status and health (pg_trickle src/monitor/health.rs, src/monitor/mod.rs)
-- ---------------------------------------------------------------------------------------
CREATE FUNCTION pgtrickle.pgt_status()
RETURNS TABLE(name text, status text, refresh_mode text, is_populated boolean,
              consecutive_errors integer, schedule text, data_timestamp timestamptz,
              staleness interval, scc_id integer)
LANGUAGE sql STABLE AS $$
    SELECT st.pgt_schema || '.' || st.pgt_name, st.status, st.refresh_mode, st.is_populated,
           st.consecutive_errors, st.schedule, st.data_timestamp, now() - st.data_timestamp, st.scc_id
    FROM pgtrickle.pgt_stream_tables st
    ORDER BY st.pgt_schema, st.pgt_name
$$;

CREATE FUNCTION pgtrickle.health_check()
RETURNS TABLE(check_name text, severity text, detail text)
LANGUAGE plpgsql STABLE AS $$
DECLARE
    n bigint;
    names text;
BEGIN
    check_name := 'scheduler_running';
    IF EXISTS (SELECT 1 FROM pg_stat_activity WHERE backend_type = 'pg_trickle scheduler' AND datname = current_database()) THEN
        severity := 'OK'; detail := 'pg_trickle scheduler is running';
    ELSIF EXISTS (SELECT 1 FROM pg_stat_activity WHERE backend_type = 'pg_trickle launcher') THEN
        severity := 'WARN'; detail := 'pg_trickle launcher is running but no scheduler for this database';
    ELSE
        severity := 'ERROR'; detail := 'pg_trickle scheduler is not running (is pg_trickle in shared_preload_libraries?)';
    END IF;
    RETURN NEXT;

    SELECT count(*), string_agg(st.pgt_schema || '.' || st.pgt_name, ', ' ORDER BY st.pgt_schema, st.pgt_name)
      INTO n, names FROM pgtrickle.pgt_stream_tables st WHERE st.status IN ('ERROR', 'SUSPENDED');
    check_name := 'error_tables';
    IF n = 0 THEN severity := 'OK'; detail := 'no stream tables in ERROR/SUSPENDED';
    ELSE severity := 'ERROR'; detail := format('%s stream table(s) in ERROR/SUSPENDED: %s', n, names);
    END IF;
    RETURN NEXT;

    SELECT count(*), string_agg(i.pgt_schema || '.' || i.pgt_name, ', ' ORDER BY i.pgt_schema, i.pgt_name)
      INTO n, names FROM pgtrickle.stream_tables_info i WHERE i.stale;
    check_name := 'stale_tables';
    IF n = 0 THEN severity := 'OK'; detail := 'no stale stream tables';
    ELSE severity := 'WARN'; detail := format('%s stale stream table(s): %s', n, names);
    END IF;
    RETURN NEXT;

    SELECT count(*), string_agg(st.pgt_schema || '.' || st.pgt_name, ', ' ORDER BY st.pgt_schema, st.pgt_name)
      INTO n, names FROM pgtrickle.pgt_stream_tables st WHERE st.needs_reinit;
    check_name := 'needs_reinit';
    IF n = 0 THEN severity := 'OK'; detail := 'no stream tables need reinitialization';
    ELSE severity := 'WARN'; detail := format('%s stream table(s) need reinitialization: %s', n, names);
    END IF;
    RETURN NEXT;

    SELECT count(*), string_agg(st.pgt_schema || '.' || st.pgt_name, ', ' ORDER BY st.pgt_schema, st.pgt_name)
      INTO n, names FROM pgtrickle.pgt_stream_tables st
     WHERE st.status IN ('ACTIVE', 'INITIALIZING') AND st.consecutive_errors > 0;
    check_name := 'consecutive_errors';
    IF n = 0 THEN severity := 'OK'; detail := 'no stream tables with consecutive errors';
    ELSE severity := 'WARN'; detail := format('%s stream table(s) with consecutive errors: %s', n, names);
    END IF;
    RETURN NEXT;

    SELECT count(*) INTO n FROM (
        SELECT source_relid FROM pgtrickle_changes.pgt_pending GROUP BY source_relid
        HAVING max(pending_rows) > 10000) b;
    check_name := 'buffer_growth';
    IF n = 0 THEN severity := 'OK'; detail := 'no change buffer over 10000 pending rows';
    ELSE severity := 'WARN'; detail := format('%s source(s) with more than 10000 pending rows', n);
    END IF;
    RETURN NEXT;

    check_name := 'slot_lag'; severity := 'OK'; detail := 'no WAL replication slots in use';
    RETURN NEXT;

    IF coalesce(current_setting('pg_trickle.parallel_refresh_mode', true), 'on') NOT IN ('off', 'false') THEN
        check_name := 'worker_pool'; severity := 'OK'; detail := 'no refresh workers busy';
        RETURN NEXT;
        check_name := 'job_queue'; severity := 'OK'; detail := 'no queued refresh jobs';
        RETURN NEXT;
    END IF;

    check_name := 'attachment_owner_check'; severity := 'OK'; detail := 'no ownership mismatches';
    RETURN NEXT;
END
$$;

CREATE FUNCTION pgtrickle.check_cdc_health()
RETURNS TABLE(source_relid bigint, source_table text, cdc_mode text, slot_name text,
              lag_bytes bigint, confirmed_lsn text, alert text, selective_capture boolean)
LANGUAGE sql STABLE AS $$
    SELECT d.source_relid::bigint, d.source_relid::regclass::text, upper(min(d.cdc_mode)),
           NULL::text, NULL::bigint, NULL::text, NULL::text, false
    FROM pgtrickle.pgt_dependencies d
    WHERE d.source_type = 'TABLE'
    GROUP BY d.source_relid
    ORDER BY d.source_relid
$$;

CREATE FUNCTION pgtrickle.change_buffer_sizes()
RETURNS TABLE(stream_table text, source_table text, source_oid bigint, cdc_mode text,
              pending_rows bigint, buffer_bytes bigint)
LANGUAGE sql STABLE AS $$
    SELECT st.pgt_schema || '.' || st.pgt_name,
           coalesce(n.nspname || '.' || c.relname, d.source_relid::text),
           d.source_relid::bigint,
           d.cdc_mode,
           coalesce(pp.pending_rows, 0)::bigint,
           (coalesce(pp.pending_rows, 0) * 64)::bigint
    FROM pgtrickle.pgt_dependencies d
    JOIN pgtrickle.pgt_stream_tables st ON st.pgt_id = d.pgt_id
    LEFT JOIN pg_class c ON c.oid = d.source_relid
    LEFT JOIN pg_namespace n ON n.oid = c.relnamespace
    LEFT JOIN pgtrickle_changes.pgt_pending pp ON pp.pgt_id = d.pgt_id AND pp.source_relid = d.source_relid
    ORDER BY 1, 2
$$;

-- RETURNS TABLE as upstream (src/monitor/mod.rs, get_refresh_history): the result columns
-- are OUT arguments in pg_proc, as on a real server.
CREATE FUNCTION pgtrickle.get_refresh_history(name text, max_rows integer DEFAULT 20)
RETURNS TABLE(refresh_id bigint, data_timestamp timestamptz, start_time timestamptz,
              end_time timestamptz, action text, status text, rows_inserted bigint,
              rows_deleted bigint, duration_ms double precision, error_message text)
LANGUAGE sql STABLE STRICT AS $$
    SELECT h.refresh_id, h.data_timestamp, h.start_time, h.end_time, h.action, h.status,
           h.rows_inserted, h.rows_deleted,
           (extract(epoch FROM h.end_time - h.start_time) * 1000)::double precision,
           h.error_message
    FROM pgtrickle.pgt_refresh_history h
    JOIN pgtrickle.pgt_stream_tables st ON st.pgt_id = h.pgt_id
    JOIN pgtrickle._parse_name($1, true) p ON p.nsp = st.pgt_schema AND p.rel = st.pgt_name
    ORDER BY h.refresh_id DESC
    LIMIT $2
$$;

-- ---------------------------------------------------------------------------------------
-- fleet operations (pg_trickle sql/archive/pg_trickle--0.67.0.sql, pause_all / resume_all) (pause_all / resume_all carry upstream's broken bodies on purpose)
-- ---------------------------------------------------------------------------------------
CREATE FUNCTION pgtrickle.pause_all() RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE pgtrickle.pgt_stream_tables SET status = 'PAUSED' WHERE status = 'ACTIVE';
    RAISE NOTICE 'pg_trickle: all stream tables paused.';
END
$$;

CREATE FUNCTION pgtrickle.resume_all() RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE pgtrickle.pgt_stream_tables SET status = 'ACTIVE' WHERE status = 'PAUSED';
    RAISE NOTICE 'pg_trickle: all stream tables resumed.';
END
$$;

CREATE FUNCTION pgtrickle.drain(timeout_s integer DEFAULT 60) RETURNS boolean
LANGUAGE sql AS $$ SELECT true $$;

CREATE FUNCTION pgtrickle.is_drained() RETURNS boolean
LANGUAGE sql STABLE AS $$ SELECT true $$;
-- ---------------------------------------------------------------------------------------
-- Cron support: validation detail and a coarse evaluator used by the test scheduler tick
-- (minute resolution; a 6-field expression's seconds field is ignored for evaluation).
-- ---------------------------------------------------------------------------------------
CREATE FUNCTION pgtrickle._cron_expand(p_field text, p_lo integer, p_hi integer, p_kind text)
RETURNS integer[]
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    f text := upper(p_field);
    part text;
    m text[];
    a integer;
    b integer;
    step integer;
    out integer[] := '{}';
    i integer;
    names text[];
BEGIN
    IF p_kind = 'month' THEN
        names := ARRAY['JAN','FEB','MAR','APR','MAY','JUN','JUL','AUG','SEP','OCT','NOV','DEC'];
        FOR i IN 1 .. 12 LOOP f := replace(f, names[i], i::text); END LOOP;
    ELSIF p_kind = 'dow' THEN
        names := ARRAY['SUN','MON','TUE','WED','THU','FRI','SAT'];
        FOR i IN 1 .. 7 LOOP f := replace(f, names[i], (i - 1)::text); END LOOP;
    END IF;
    IF f = '?' THEN f := '*'; END IF;
    FOREACH part IN ARRAY string_to_array(f, ',') LOOP
        m := regexp_match(part, '^(\*|([0-9]+)(?:-([0-9]+))?)(?:/([0-9]+))?$');
        IF m IS NULL THEN
            RETURN NULL;
        END IF;
        step := coalesce(m[4]::integer, 1);
        IF step < 1 THEN RETURN NULL; END IF;
        IF m[1] = '*' THEN
            a := p_lo; b := p_hi;
        ELSE
            a := m[2]::integer;
            b := coalesce(m[3]::integer, CASE WHEN m[4] IS NOT NULL THEN p_hi ELSE a END);
        END IF;
        IF a < p_lo OR b > p_hi OR a > b THEN
            RETURN NULL;
        END IF;
        FOR i IN a .. b BY step LOOP
            out := out || CASE WHEN p_kind = 'dow' AND i = 7 THEN 0 ELSE i END;
        END LOOP;
    END LOOP;
    RETURN out;
END
$$;

-- Returns NULL when valid, else the parser detail.
CREATE FUNCTION pgtrickle._cron_error(p_expr text) RETURNS text
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    fields text[] := regexp_split_to_array(btrim(p_expr), '\s+');
    kinds text[] := ARRAY['minute', 'hour', 'dom', 'month', 'dow'];
    los integer[] := ARRAY[0, 0, 1, 1, 0];
    his integer[] := ARRAY[59, 23, 31, 12, 7];
    i integer;
BEGIN
    IF array_length(fields, 1) = 6 THEN
        IF pgtrickle._cron_expand(fields[1], 0, 59, 'second') IS NULL THEN
            RETURN format('invalid second field ''%s'' (allowed 0-59)', fields[1]);
        END IF;
        fields := fields[2:6];
    END IF;
    FOR i IN 1 .. 5 LOOP
        IF pgtrickle._cron_expand(fields[i], los[i], his[i], kinds[i]) IS NULL THEN
            RETURN format('invalid %s field ''%s'' (allowed %s-%s)', kinds[i], fields[i], los[i], his[i]);
        END IF;
    END LOOP;
    RETURN NULL;
END
$$;

CREATE FUNCTION pgtrickle._cron_due(p_expr text, p_last timestamptz, p_now timestamptz DEFAULT now())
RETURNS boolean
LANGUAGE plpgsql STABLE AS $$
DECLARE
    e text := lower(btrim(p_expr));
    fields text[];
    mins integer[]; hours integer[]; doms integer[]; mons integer[]; dows integer[];
    dom_any boolean; dow_any boolean;
    t timestamp;
    stop timestamp;
    day_ok boolean;
BEGIN
    IF p_last IS NULL THEN
        RETURN true;
    END IF;
    e := CASE e WHEN '@hourly' THEN '0 * * * *' WHEN '@daily' THEN '0 0 * * *'
                WHEN '@midnight' THEN '0 0 * * *' WHEN '@weekly' THEN '0 0 * * 0'
                WHEN '@monthly' THEN '0 0 1 * *' WHEN '@yearly' THEN '0 0 1 1 *'
                WHEN '@annually' THEN '0 0 1 1 *' ELSE e END;
    fields := regexp_split_to_array(e, '\s+');
    IF array_length(fields, 1) = 6 THEN
        fields := fields[2:6];
    END IF;
    mins := pgtrickle._cron_expand(fields[1], 0, 59, 'minute');
    hours := pgtrickle._cron_expand(fields[2], 0, 23, 'hour');
    doms := pgtrickle._cron_expand(fields[3], 1, 31, 'dom');
    mons := pgtrickle._cron_expand(fields[4], 1, 12, 'month');
    dows := pgtrickle._cron_expand(fields[5], 0, 7, 'dow');
    dom_any := fields[3] IN ('*', '?');
    dow_any := fields[5] IN ('*', '?');
    t := date_trunc('minute', p_last AT TIME ZONE 'UTC') + interval '1 minute';
    stop := p_now AT TIME ZONE 'UTC';
    IF stop - t > interval '3 days' THEN
        RETURN true;  -- coarse: assume an occurrence in any span longer than three days
    END IF;
    WHILE t <= stop LOOP
        IF extract(minute FROM t)::integer = ANY (mins) AND extract(hour FROM t)::integer = ANY (hours)
           AND extract(month FROM t)::integer = ANY (mons) THEN
            IF dom_any OR dow_any THEN
                day_ok := extract(day FROM t)::integer = ANY (doms) AND extract(dow FROM t)::integer = ANY (dows);
            ELSE
                day_ok := extract(day FROM t)::integer = ANY (doms) OR extract(dow FROM t)::integer = ANY (dows);
            END IF;
            IF day_ok THEN
                RETURN true;
            END IF;
        END IF;
        t := t + interval '1 minute';
    END LOOP;
    RETURN false;
END
$$;
-- ---------------------------------------------------------------------------------------
-- [OPT] inspection and convenience functions (simplified where noted)
-- ---------------------------------------------------------------------------------------
CREATE FUNCTION pgtrickle.get_staleness(name text) RETURNS double precision
LANGUAGE sql STABLE STRICT AS $$
    SELECT extract(epoch FROM now() - st.data_timestamp)::double precision
    FROM pgtrickle.pgt_stream_tables st
    JOIN pgtrickle._parse_name($1, true) p ON p.nsp = st.pgt_schema AND p.rel = st.pgt_name
$$;

CREATE FUNCTION pgtrickle.list_sources(name text)
RETURNS TABLE(source_table text, source_oid bigint, source_type text, cdc_mode text, columns_used text)
LANGUAGE sql STABLE STRICT AS $$
    SELECT coalesce(n.nspname || '.' || c.relname, d.source_relid::text), d.source_relid::bigint,
           d.source_type, d.cdc_mode, array_to_string(d.columns_used, ', ')
    FROM pgtrickle.pgt_dependencies d
    JOIN pgtrickle.pgt_stream_tables st ON st.pgt_id = d.pgt_id
    JOIN pgtrickle._parse_name($1, true) p ON p.nsp = st.pgt_schema AND p.rel = st.pgt_name
    LEFT JOIN pg_class c ON c.oid = d.source_relid
    LEFT JOIN pg_namespace n ON n.oid = c.relnamespace
    ORDER BY 1
$$;

CREATE FUNCTION pgtrickle.dependency_tree()
RETURNS TABLE(tree_line text, node text, node_type text, depth integer, status text, refresh_mode text)
LANGUAGE sql STABLE AS $$
    WITH RECURSIVE edges AS (
        SELECT d.pgt_id AS child, up.pgt_id AS parent
        FROM pgtrickle.pgt_dependencies d
        JOIN pgtrickle.pgt_stream_tables up ON up.pgt_relid = d.source_relid
        WHERE d.source_type = 'STREAM_TABLE'
    ), walk AS (
        -- Roots: stream tables nobody reads from; children are their sources.
        SELECT st.pgt_id, 0 AS depth, ARRAY[st.pgt_schema || '.' || st.pgt_name] AS path
        FROM pgtrickle.pgt_stream_tables st
        WHERE NOT EXISTS (SELECT 1 FROM edges e WHERE e.parent = st.pgt_id)
        UNION ALL
        SELECT e.parent, w.depth + 1, w.path || (up.pgt_schema || '.' || up.pgt_name)
        FROM walk w JOIN edges e ON e.child = w.pgt_id
        JOIN pgtrickle.pgt_stream_tables up ON up.pgt_id = e.parent
        WHERE w.depth < 64
    ), nodes AS (
        SELECT repeat('  ', w.depth) || CASE WHEN w.depth > 0 THEN '└─ ' ELSE '' END
                   || st.pgt_schema || '.' || st.pgt_name AS tree_line,
               st.pgt_schema || '.' || st.pgt_name AS node, 'stream_table'::text AS node_type,
               w.depth, st.status, st.refresh_mode, w.path
        FROM walk w JOIN pgtrickle.pgt_stream_tables st ON st.pgt_id = w.pgt_id
        UNION ALL
        SELECT repeat('  ', w.depth + 1) || '└─ ' || coalesce(n.nspname || '.' || c.relname, d.source_relid::text) || ' [src]',
               coalesce(n.nspname || '.' || c.relname, d.source_relid::text), 'source_table',
               w.depth + 1, NULL, NULL,
               w.path || coalesce(n.nspname || '.' || c.relname, d.source_relid::text)
        FROM walk w JOIN pgtrickle.pgt_dependencies d ON d.pgt_id = w.pgt_id AND d.source_type <> 'STREAM_TABLE'
        LEFT JOIN pg_class c ON c.oid = d.source_relid
        LEFT JOIN pg_namespace n ON n.oid = c.relnamespace
    )
    SELECT tree_line, node, node_type, depth, status, refresh_mode FROM nodes ORDER BY path
$$;

CREATE FUNCTION pgtrickle.explain_refresh_mode(name text)
RETURNS TABLE(configured_mode text, effective_mode text, downgrade_reason text)
LANGUAGE plpgsql STABLE STRICT AS $$
DECLARE
    p record;
    s pgtrickle.pgt_stream_tables;
BEGIN
    p := pgtrickle._parse_name(explain_refresh_mode.name);
    SELECT * INTO s FROM pgtrickle.pgt_stream_tables st WHERE st.pgt_schema = p.nsp AND st.pgt_name = p.rel;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'XX000',
            MESSAGE = format('diagnostic error: stream table ''%s'' not found', explain_refresh_mode.name);
    END IF;
    configured_mode := s.refresh_mode;
    effective_mode := coalesce(s.effective_refresh_mode, s.refresh_mode);
    downgrade_reason := NULL;
    RETURN NEXT;
END
$$;

CREATE FUNCTION pgtrickle.refresh_if_stale(p_name text, p_max_age interval DEFAULT '5 minutes')
RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
    v_last timestamptz;
BEGIN
    SELECT max(h.end_time) INTO v_last
    FROM pgtrickle.pgt_refresh_history h
    JOIN pgtrickle.pgt_stream_tables st ON st.pgt_id = h.pgt_id
    WHERE st.pgt_name = p_name AND h.status = 'COMPLETED';
    IF v_last IS NULL OR now() - v_last > p_max_age THEN
        PERFORM pgtrickle.refresh_stream_table(p_name);
        RETURN true;
    END IF;
    RETURN false;
END
$$;

CREATE FUNCTION pgtrickle._spec_of(s pgtrickle.pgt_stream_tables) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
        'name', s.pgt_name, 'schema', s.pgt_schema,
        'query', coalesce(s.original_query, pgtrickle._pgt_full_query(s.pgt_id)),
        'refresh_mode', s.refresh_mode, 'schedule', s.schedule,
        'cdc_mode', coalesce(s.requested_cdc_mode, current_setting('pg_trickle.cdc_mode', true), 'auto'),
        'oid', s.pgt_relid::bigint, 'diamond_group', NULL, 'attach_outbox', false,
        'cdc_slot_name', NULL)
$$;

CREATE FUNCTION pgtrickle.stream_table_spec(qualified_name text) RETURNS jsonb
LANGUAGE sql STABLE STRICT AS $$
    SELECT pgtrickle._spec_of(st)
    FROM pgtrickle.pgt_stream_tables st
    JOIN pgtrickle._parse_name($1) p ON p.nsp = st.pgt_schema AND p.rel = st.pgt_name
$$;

CREATE FUNCTION pgtrickle.stream_table_spec(relid oid) RETURNS jsonb
LANGUAGE sql STABLE STRICT AS $$
    SELECT pgtrickle._spec_of(st) FROM pgtrickle.pgt_stream_tables st WHERE st.pgt_relid = $1
$$;

CREATE FUNCTION pgtrickle.bulk_create(definitions jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    i integer := 0;
    d jsonb;
    out jsonb := '[]';
    p record;
    v_id bigint;
    msg text;
BEGIN
    IF jsonb_typeof(definitions) <> 'array' THEN
        PERFORM pgtrickle._invalid('bulk_create() expects a JSON array of objects');
    END IF;
    FOR d IN SELECT value FROM jsonb_array_elements(definitions) LOOP
        BEGIN
            IF d ->> 'name' IS NULL OR d ->> 'query' IS NULL THEN
                RAISE EXCEPTION 'each element needs "name" and "query"';
            END IF;
            PERFORM pgtrickle.create_stream_table(
                name => d ->> 'name', query => d ->> 'query',
                schedule => coalesce(d ->> 'schedule', 'calculated'),
                refresh_mode => coalesce(d ->> 'refresh_mode', 'AUTO'),
                initialize => coalesce((d ->> 'initialize')::boolean, true),
                diamond_consistency => d ->> 'diamond_consistency',
                diamond_schedule_policy => d ->> 'diamond_schedule_policy',
                cdc_mode => d ->> 'cdc_mode',
                append_only => coalesce((d ->> 'append_only')::boolean, false),
                pooler_compatibility_mode => coalesce((d ->> 'pooler_compatibility_mode')::boolean, false),
                partition_by => d ->> 'partition_by',
                max_differential_joins => (d ->> 'max_differential_joins')::integer,
                max_delta_fraction => (d ->> 'max_delta_fraction')::double precision,
                output_distribution_column => d ->> 'output_distribution_column',
                temporal => coalesce((d ->> 'temporal')::boolean, false),
                storage_backend => d ->> 'storage_backend');
        EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT;
            PERFORM pgtrickle._invalid(format('bulk_create() failed on element [%s] "%s": %s', i, d ->> 'name', msg));
        END;
        p := pgtrickle._parse_name(d ->> 'name');
        SELECT st.pgt_id INTO v_id FROM pgtrickle.pgt_stream_tables st WHERE st.pgt_schema = p.nsp AND st.pgt_name = p.rel;
        out := out || jsonb_build_array(jsonb_build_object('name', d ->> 'name', 'status', 'created', 'pgt_id', v_id));
        i := i + 1;
    END LOOP;
    RETURN out;
END
$$;

CREATE FUNCTION pgtrickle.health_summary()
RETURNS TABLE(total_stream_tables integer, active_count integer, error_count integer,
              suspended_count integer, stale_count integer, reinit_pending integer,
              max_staleness_seconds double precision, scheduler_status text,
              cache_hit_rate double precision)
LANGUAGE sql STABLE AS $$
    SELECT count(*)::integer,
           count(*) FILTER (WHERE st.status = 'ACTIVE')::integer,
           count(*) FILTER (WHERE st.status = 'ERROR')::integer,
           count(*) FILTER (WHERE st.status = 'SUSPENDED')::integer,
           count(*) FILTER (WHERE pgtrickle._is_stale(st.schedule, st.last_refresh_at))::integer,
           count(*) FILTER (WHERE st.needs_reinit)::integer,
           max(extract(epoch FROM now() - st.last_refresh_at))::double precision,
           CASE WHEN EXISTS (SELECT 1 FROM pg_stat_activity WHERE backend_type = 'pg_trickle scheduler') THEN 'ACTIVE'
                WHEN EXISTS (SELECT 1 FROM pg_stat_activity WHERE backend_type = 'pg_trickle launcher') THEN 'STARTING'
                ELSE 'NOT_LOADED' END,
           NULL::double precision
    FROM pgtrickle.pgt_stream_tables st
$$;

CREATE FUNCTION pgtrickle.fuse_status()
RETURNS TABLE(stream_table text, fuse_mode text, fuse_state text, fuse_ceiling bigint,
              effective_ceiling bigint, fuse_sensitivity integer, blown_at timestamptz, blow_reason text)
LANGUAGE sql STABLE AS $$
    SELECT st.pgt_schema || '.' || st.pgt_name, st.fuse_mode, st.fuse_state, st.fuse_ceiling,
           st.fuse_ceiling, st.fuse_sensitivity, st.blown_at, st.blow_reason
    FROM pgtrickle.pgt_stream_tables st
    ORDER BY st.pgt_schema, st.pgt_name
$$;

CREATE FUNCTION pgtrickle.refresh_timeline(max_rows integer DEFAULT 50)
RETURNS TABLE(start_time timestamptz, stream_table text, action text, status text,
              rows_inserted bigint, rows_deleted bigint, duration_ms double precision,
              error_message text)
LANGUAGE sql STABLE AS $$
    SELECT h.start_time, st.pgt_schema || '.' || st.pgt_name, h.action, h.status,
           h.rows_inserted, h.rows_deleted,
           (extract(epoch FROM h.end_time - h.start_time) * 1000)::double precision, h.error_message
    FROM pgtrickle.pgt_refresh_history h JOIN pgtrickle.pgt_stream_tables st ON st.pgt_id = h.pgt_id
    ORDER BY h.refresh_id DESC
    LIMIT $1
$$;

CREATE FUNCTION pgtrickle.repair_stream_table(name text) RETURNS text
LANGUAGE plpgsql STRICT AS $$
DECLARE
    p record;
    s pgtrickle.pgt_stream_tables;
    src oid;
BEGIN
    p := pgtrickle._parse_name(repair_stream_table.name);
    SELECT * INTO s FROM pgtrickle.pgt_stream_tables st WHERE st.pgt_schema = p.nsp AND st.pgt_name = p.rel;
    IF NOT FOUND THEN
        PERFORM pgtrickle._not_found(p.nsp, p.rel);
    END IF;
    FOR src IN SELECT d.source_relid FROM pgtrickle.pgt_dependencies d
               JOIN pg_class c ON c.oid = d.source_relid
               WHERE d.pgt_id = s.pgt_id AND d.source_type IN ('TABLE', 'STREAM_TABLE') LOOP
        PERFORM pgtrickle._install_capture(src);
    END LOOP;
    UPDATE pgtrickle.pgt_stream_tables SET frontier = NULL WHERE pgt_id = s.pgt_id;
    RETURN format('capture triggers checked; frontier reset for %s.%s (next refresh is FULL)', s.pgt_schema, s.pgt_name);
END
$$;

CREATE FUNCTION pgtrickle.write_and_refresh(sql text, stream_table_name text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE write_and_refresh.sql;
    PERFORM pgtrickle.refresh_stream_table(write_and_refresh.stream_table_name);
END
$$;

CREATE FUNCTION pgtrickle.reset_fuse(name text, action text DEFAULT 'apply') RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    p record;
    s pgtrickle.pgt_stream_tables;
    a text := lower(btrim(coalesce(reset_fuse.action, 'apply')));
BEGIN
    p := pgtrickle._parse_name(reset_fuse.name);
    SELECT * INTO s FROM pgtrickle.pgt_stream_tables st WHERE st.pgt_schema = p.nsp AND st.pgt_name = p.rel;
    IF NOT FOUND THEN
        PERFORM pgtrickle._not_found(p.nsp, p.rel);
    END IF;
    IF a NOT IN ('apply', 'reinitialize', 'skip_changes') THEN
        PERFORM pgtrickle._invalid(format('invalid reset_fuse action: ''%s'' (expected ''apply'', ''reinitialize'', or ''skip_changes'')', reset_fuse.action));
    END IF;
    IF s.fuse_state <> 'blown' THEN
        PERFORM pgtrickle._invalid(format('fuse is not blown for %s.%s (current state: %s)', s.pgt_schema, s.pgt_name, s.fuse_state));
    END IF;
    UPDATE pgtrickle.pgt_stream_tables
       SET fuse_state = 'armed', blown_at = NULL, blow_reason = NULL, status = 'ACTIVE',
           needs_reinit = needs_reinit OR a = 'reinitialize'
     WHERE pgt_id = s.pgt_id;
    IF a = 'skip_changes' THEN
        UPDATE pgtrickle_changes.pgt_pending SET pending_rows = 0 WHERE pgt_id = s.pgt_id;
    ELSE
        PERFORM pgtrickle._pgt_refresh(s.pgt_id, 'MANUAL');
    END IF;
END
$$;

CREATE FUNCTION pgtrickle.stream_table_definition(p_name text) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT format('SELECT pgtrickle.create_stream_table(name => %L, query => %L, schedule => %L, refresh_mode => %L);',
                  st.pgt_schema || '.' || st.pgt_name,
                  coalesce(st.original_query, pgtrickle._pgt_full_query(st.pgt_id)),
                  coalesce(st.schedule, 'calculated'), st.refresh_mode)
    FROM pgtrickle.pgt_stream_tables st
    JOIN pgtrickle._parse_name($1) p ON p.nsp = st.pgt_schema AND p.rel = st.pgt_name
$$;

CREATE FUNCTION pgtrickle.export_definition(st_name text) RETURNS text
LANGUAGE sql STABLE AS $$ SELECT pgtrickle.stream_table_definition($1) $$;

-- Upstream keeps these pauses in shared memory only; the double just acknowledges them.
CREATE FUNCTION pgtrickle.pause_scheduler(nodes text[]) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    n text;
    p record;
BEGIN
    FOREACH n IN ARRAY coalesce(nodes, '{}') LOOP
        p := pgtrickle._parse_name(n);
        IF NOT EXISTS (SELECT 1 FROM pgtrickle.pgt_stream_tables st WHERE st.pgt_schema = p.nsp AND st.pgt_name = p.rel) THEN
            RAISE WARNING 'pg_trickle: stream table %.% not found', p.nsp, p.rel;
        END IF;
    END LOOP;
    RETURN 'OK';
END
$$;

CREATE FUNCTION pgtrickle.resume_scheduler(nodes text[]) RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
    RETURN pgtrickle.pause_scheduler(nodes);
END
$$;

SELECT pgtrickle._signal_launcher_rescan();
