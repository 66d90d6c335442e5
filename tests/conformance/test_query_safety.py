"""Query analysis of create / alter (pg_trickle src/api/alter.rs, create_stream_table_impl and
alter_stream_table_query): a defining query is one statement, and nothing else ever runs.

pg_trickle hands the defining query to PostgreSQL's raw parser and refuses anything that is
not exactly one statement (pg_trickle src/api/helpers.rs, validate_defining_query: "query
parse error: Expected 1 statement, got N", SQLSTATE 42000; a statement that does not parse
fails in the parser first, 42601). Here a list of hostile queries, each smuggling a second
statement past a naive splitter (a ';' next to string literals, E'' escapes, dollar quotes,
quoted identifiers and comments of every kind), must be refused by every entry point while
a canary table and a canary sequence (whose `nextval` survives a rollback, so a statement
that ran and was rolled back still shows) stay untouched. Valid queries that merely contain
those characters must be accepted.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import psycopg
import pytest

from airflow_provider_pgtrickle.testing.server import TestDatabase, TestServer

from ._helpers import (
    Conn,
    assert_pg_error,
    call,
    content,
    create_st,
    query_result,
    regclass,
    scalar,
    snapshot,
    st,
)

PARSE_ERROR = "42000"
SYNTAX_ERROR = "42601"

# Statements that must never run. Each leaves a trace a test can see: the canary table
# changes or disappears, or the canary sequence advances (not undone by a rollback).
PAYLOADS: dict[str, str] = {
    "drop": "DROP TABLE canary",
    "insert": "INSERT INTO canary VALUES (666)",
    "nextval": "SELECT nextval('canary_seq')",
    "do": "DO $body$ BEGIN PERFORM nextval('canary_seq'); END $body$",
}

# (id, template with {p} for the payload, statements the raw parser sees or None when the
# parser itself fails first). Each one hides the ';' from some naive way of splitting.
HOSTILE: list[tuple[str, str, int | None]] = [
    ("dash-dash-in-string", "SELECT '--' AS a, id FROM src; {p}", 2),
    ("block-open-in-string", "SELECT '/*' AS a, id FROM src; {p}; SELECT '*/' AS b", 3),
    ("doubled-quote", "SELECT 'it''s' AS a, id FROM src; {p}", 2),
    ("doubled-quote-dashes", "SELECT 'it''s --' AS a, id FROM src; {p}", 2),
    ("e-string-escaped-quote", "SELECT E'\\'' AS a, id FROM src; {p}", 2),
    ("e-string-escaped-backslash", "SELECT E'\\\\' AS a, id FROM src; {p}; SELECT '\\'", 3),
    ("lowercase-e-string", "SELECT e'x\\'' AS a, id FROM src; {p}", 2),
    # `priE'\'` is the identifier priE and then a plain string, not an E'' string (the
    # `type 'literal'` syntax). The identifier must not be a keyword: `somE` would be SOME,
    # which the raw parser refuses there (42601) before counting statements.
    ("identifier-ending-in-e", "SELECT id FROM src WHERE v::text <> priE'\\'; {p}; SELECT '\\'", 3),
    ("backslash-in-plain-string", "SELECT 'x\\' AS a, id FROM src; {p}; SELECT '\\'", 3),
    ("dollar-quote", "SELECT $$;$$ AS a, id FROM src; {p}", 2),
    ("tagged-dollar-quote", "SELECT $q$ $$ ; $q$ AS a, id FROM src; {p}", 2),
    ("dollar-in-identifier", "SELECT 1 AS a$$, id FROM src; {p}; SELECT $$x$$", 3),
    ("quoted-identifier", 'SELECT id AS "x--" FROM src; {p}', 2),
    ("quoted-identifier-doubled", 'SELECT id AS "x""--" FROM src; {p}', 2),
    ("quoted-identifier-quote", 'SELECT id AS "\'" FROM src; {p}; SELECT "\'" FROM src', 3),
    ("line-comment-then-newline", "SELECT id FROM src -- c\n; {p}", 2),
    ("block-comment", "SELECT id FROM src /* ; */ ; {p}", 2),
    ("nested-block-comment", "SELECT id FROM src /* /* */ ; */ ; {p}", 2),
    ("comment-close-in-string", "SELECT id, '*/' AS a FROM src; {p}", 2),
    ("no-space", "SELECT id FROM src;{p}", 2),
    ("newline", "SELECT id FROM src;\n{p}", 2),
    ("payload-first", "{p}; SELECT id FROM src", 2),
    ("trailing-semicolons", "SELECT id FROM src; {p};;", 2),
    ("cte", "WITH x AS (SELECT id FROM src) SELECT id FROM x; {p}", 2),
    ("unicode-string", "SELECT U&'\\0041;' AS a, id FROM src; {p}", 2),
    ("bit-string", "SELECT B'01' AS a, id FROM src; {p}", 2),
    # The refresh wraps the query as `FROM (<query>) sub`: balanced parentheses must not
    # let a statement out either. The raw parser refuses these as syntax errors.
    ("paren-escape", "SELECT id FROM src) sub; {p}; SELECT * FROM (SELECT 1", None),
    ("paren-escape-bare", "SELECT id FROM src); {p}; SELECT (1", None),
]

# `id` comes first where a query has as many columns as `src`: see
# test_constant_in_the_key_position_is_not_hashed_as_the_key below.
VALID: list[tuple[str, str]] = [
    ("semicolon-in-string", "SELECT id, 'it''s; --' AS x FROM src"),
    ("e-string", "SELECT id, E'\\';' AS x FROM src"),
    ("e-string-backslash", "SELECT e'\\\\' AS x, ';' AS y, id FROM src"),
    ("dollar-quote", "SELECT id, $$;$$ AS x FROM src"),
    ("tagged-dollar-quote", "SELECT id, $tag$ $$ ; -- $tag$ AS x FROM src"),
    ("quoted-identifiers", 'SELECT id AS "a;b", v AS "c--""d" FROM src'),
    ("nested-comment", "SELECT id /* ; /* nested ; */ still a comment ; */, v FROM src"),
    ("line-comment", "SELECT id, v -- not the end; really\nFROM src"),
    ("comment-markers-in-strings", "SELECT id, '/*' AS a, '*/' AS b, '--' AS c FROM src"),
    ("operators", "SELECT id, v - 1 AS m, v / 2 AS d, v-1 AS n FROM src WHERE v::text <> ';'"),
    ("unicode-string", "SELECT id, U&'\\0041;' AS x FROM src"),
    ("keyword-in-string", "SELECT id, 'limit 1 -- order by' AS x FROM src"),
    ("leading-comment", "-- a model\n/* ; */ SELECT id, v FROM src"),
]


@pytest.fixture(scope="module")
def safety_db(pgtrickle_server: TestServer) -> Iterator[TestDatabase]:
    """One database for the whole module: the hostile list is long, and a refused statement
    leaves nothing behind (the canary checks below would notice if one did)."""
    db = pgtrickle_server.create_database()
    try:
        with db.connect(autocommit=True) as conn:
            conn.execute("CREATE TABLE src (id integer PRIMARY KEY, v integer)")
            conn.execute("INSERT INTO src VALUES (1, 10), (2, 20), (3, 30)")
        yield db
    finally:
        pgtrickle_server.drop_database(db.dbname)


@pytest.fixture(scope="module")
def observer(safety_db: TestDatabase) -> Iterator[Conn]:
    """A second session: only committed effects count, plus the sequence, which a rollback
    does not reset."""
    with safety_db.connect(autocommit=True) as other:
        yield other


@pytest.fixture
def conn(safety_db: TestDatabase) -> Iterator[Conn]:
    with safety_db.connect(autocommit=True) as c:
        c.execute("DROP TABLE IF EXISTS canary")
        c.execute("DROP SEQUENCE IF EXISTS canary_seq")
        c.execute("CREATE TABLE canary (v integer)")
        c.execute("INSERT INTO canary VALUES (1), (2)")
        c.execute("CREATE SEQUENCE canary_seq")
        yield c
        for name in scalar(c, "SELECT array_agg(pgt_name) FROM pgtrickle.pgt_stream_tables") or []:
            call(c, "drop_stream_table", f"public.{name}")


def _canary_problem(observer: Conn) -> str | None:
    if regclass(observer, "public.canary") is None:
        return "the canary table was dropped"
    if query_result(observer, "SELECT v FROM canary") != [(1,), (2,)]:
        return "the canary table changed"
    if scalar(observer, "SELECT last_value || '/' || is_called FROM canary_seq") != "1/false":
        return "a smuggled statement ran (the canary sequence advanced)"
    return None


def _refusal_problem(exc: BaseException, statements: int | None) -> str | None:
    if not isinstance(exc, psycopg.Error):
        return repr(exc)
    primary = exc.diag.message_primary
    if statements is None:
        # pg_trickle's raw parser fails first (42601); the double counts statements first.
        if exc.sqlstate not in {PARSE_ERROR, SYNTAX_ERROR}:
            return f"{exc.sqlstate}: {primary}"
    elif (exc.sqlstate, primary) != (
        PARSE_ERROR,
        f"query parse error: Expected 1 statement, got {statements}",
    ):
        return f"{exc.sqlstate}: {primary}"
    return None


def _attempt(conn: Conn, observer: Conn, run: Callable[[], object], statements: int | None) -> str:
    """'' when `run` was refused as it should be and the canary is intact, else the problem."""
    try:
        run()
    except psycopg.Error as exc:
        problem = _refusal_problem(exc, statements)
    else:
        problem = "accepted"
    return problem or _canary_problem(observer) or ""


@pytest.mark.parametrize(("tid", "template", "statements"), HOSTILE, ids=[h[0] for h in HOSTILE])
def test_04_1_create_runs_only_the_defining_query(
    conn: Conn, observer: Conn, tid: str, template: str, statements: int | None
) -> None:
    """Mirrors pg_trickle src/api/helpers.rs, validate_defining_query (reached from
    create_stream_table_impl): `initialize => false` is the dangerous case, as nothing
    would otherwise fail after a smuggled statement ran."""
    problems = {}
    for pid, payload in PAYLOADS.items():
        query = template.format(p=payload)
        problem = _attempt(
            conn,
            observer,
            lambda q=query: create_st(conn, "public.t", q, initialize=False),  # type: ignore[misc]
            statements,
        )
        if problem:
            problems[pid] = problem
            break  # the canary may be gone: later payloads would only repeat the finding
    assert problems == {}
    assert st(conn, "public.t") is None


@pytest.mark.parametrize("entry", ["create-initialize", "alter", "create_or_replace"])
def test_04_4_every_entry_point_runs_only_the_defining_query(
    conn: Conn, observer: Conn, entry: str
) -> None:
    """Mirrors pg_trickle src/api/alter.rs (alter_stream_table_impl and
    create_stream_table_impl) and src/api/create.rs (create_or_replace_stream_table_impl):
    each passes a new query through the same validation before anything runs."""
    if entry != "create-initialize":
        create_st(conn, "public.t", "SELECT id, v FROM src")
    before = snapshot(conn, "public.t")

    def run(query: str) -> None:
        if entry == "create-initialize":
            create_st(conn, "public.t", query)
        elif entry == "alter":
            call(conn, "alter_stream_table", "public.t", query=query)
        else:
            call(
                conn,
                "create_or_replace_stream_table",
                "public.t",
                query,
                schedule="1h",
                refresh_mode="DIFFERENTIAL",
            )

    problems = {}
    for tid, template, statements in HOSTILE:
        query = template.format(p=PAYLOADS["nextval"])
        problem = _attempt(conn, observer, lambda q=query: run(q), statements)  # type: ignore[misc]
        if problem:
            problems[tid] = problem
            break
    assert problems == {}
    assert snapshot(conn, "public.t") == before


@pytest.mark.parametrize(("tid", "query"), VALID, ids=[v[0] for v in VALID])
def test_04_1_valid_queries_with_tricky_text_are_accepted(conn: Conn, tid: str, query: str) -> None:
    """Mirrors pg_trickle src/api/helpers.rs, validate_defining_query: the raw parser sees
    one statement, so the stream table is created and holds the query's rows."""
    create_st(conn, "public.t", query)
    assert st(conn, "public.t") is not None
    assert content(conn, "public.t") == query_result(conn, query)
    call(conn, "refresh_stream_table", "public.t")
    assert content(conn, "public.t") == query_result(conn, query)


@pytest.mark.requires_double
def test_constant_in_the_key_position_is_not_hashed_as_the_key(conn: Conn) -> None:
    """The double only: pg_trickle 0.67.0 derives the row id of a projection of a keyed table
    by position (src/dvm/parser/types.rs, OpTree::row_id_key_columns, Project arm): when the
    query has as many columns as the table, the key's position in the table picks the output
    column to hash, so here the constant `x` (src's key `id` is its first column) is hashed,
    every row gets the same __pgt_row_id and populating the unique row-id index fails
    (23505). The query is valid and its rows are distinct: the double accepts it."""
    query = "SELECT 'k' AS x, id FROM src"
    create_st(conn, "public.t", query)
    assert content(conn, "public.t") == query_result(conn, query)
    call(conn, "refresh_stream_table", "public.t")
    assert content(conn, "public.t") == query_result(conn, query)


@pytest.mark.parametrize(
    "query",
    ["SELECT id, v FROM src;", "SELECT id, v FROM src ;\n", "SELECT id, v FROM src; -- done"],
    ids=["semicolon", "semicolon-newline", "semicolon-comment"],
)
def test_04_1_trailing_semicolon_is_a_syntax_error(conn: Conn, query: str) -> None:
    """Mirrors pg_trickle src/api/helpers.rs, initialize_st: the query is populated as
    `SELECT … FROM (<query>) sub`, where a trailing ';' is a syntax error. The double used to
    strip it; clients (the provider, dbt) must strip it themselves."""
    before = snapshot(conn)
    with pytest.raises(psycopg.Error) as err:
        create_st(conn, "public.t", query)
    assert_pg_error(err.value, SYNTAX_ERROR, 'syntax error at or near ";"')
    assert snapshot(conn) == before


def test_04_1_backslash_escapes_follow_standard_conforming_strings(
    conn: Conn, observer: Conn
) -> None:
    """Mirrors pg_trickle src/api/helpers.rs, validate_defining_query: the raw parser reads
    plain strings with the session's standard_conforming_strings, so with it off `\\'` is an
    escaped quote there too, and the second statement must still be seen."""
    conn.execute("SET standard_conforming_strings = off")
    conn.execute("SET escape_string_warning = off")
    try:
        hidden = "SELECT 'a\\'' AS b, id FROM src; " + PAYLOADS["nextval"]
        problem = _attempt(conn, observer, lambda: create_st(conn, "public.t", hidden), 2)
        assert problem == ""
    finally:
        conn.execute("RESET standard_conforming_strings")
        conn.execute("RESET escape_string_warning")
