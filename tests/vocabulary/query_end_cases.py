"""One table of queries and what may be sent of them: the query without its trailing blanks,
semicolons and comments (`_sql.strip_query_end` and its dbt twin
`macros/utils/pgtrickle_strip_query_end.sql` must both give `sent`).

Quoted text is skipped while scanning, so a `;` or `--` inside a string, a quoted identifier, a
dollar quote or an escape string (E'...', where a backslash escapes the next character) stays.
When a quote or comment is left open only trailing blanks and semicolons go: the server then
reports the real error.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class QueryEnd:
    id: str
    query: str
    sent: str


QUERY_END_CASES: tuple[QueryEnd, ...] = (
    QueryEnd("plain", "select 1 as x", "select 1 as x"),
    QueryEnd("semicolons", "select 1 as x ;; \n", "select 1 as x"),
    QueryEnd("line-comment", "select 1 as x; -- the end\n", "select 1 as x"),
    QueryEnd("block-comment", "select 1 as x /* done */ ;", "select 1 as x"),
    QueryEnd("only-noise", " ; -- nothing\n", ""),
    QueryEnd("string", "select ';--' as s from t;", "select ';--' as s from t"),
    QueryEnd("doubled-quote", "select 'it''s; --' as s from t;", "select 'it''s; --' as s from t"),
    QueryEnd("identifier", 'select 1 as "a;--""b" from t;', 'select 1 as "a;--""b" from t'),
    QueryEnd("dollar-quote", "select $q$ ; -- $q$ as s from t;", "select $q$ ; -- $q$ as s from t"),
    QueryEnd("empty-dollar-tag", "select $$;--$$ as s from t --x", "select $$;--$$ as s from t"),
    # A backslash in a plain string is an ordinary character (standard_conforming_strings).
    QueryEnd(
        "backslash-in-plain-string", "select 'a\\' as s from t; --x", "select 'a\\' as s from t"
    ),
    # Escape strings: `\'` does not close them.
    QueryEnd(
        "escape-string-quote",
        "select E'\\'; --' as s from t",
        "select E'\\'; --' as s from t",
    ),
    QueryEnd(
        "escape-string-lower-e",
        "select e'\\'; --' as s from t;\n-- note",
        "select e'\\'; --' as s from t",
    ),
    QueryEnd(
        "escape-string-backslash",
        "select E'a\\\\' as s from t; -- x",
        "select E'a\\\\' as s from t",
    ),
    QueryEnd(
        "escape-string-doubled-quote",
        "select E'it''s \\' ; --' as s from t ;",
        "select E'it''s \\' ; --' as s from t",
    ),
    QueryEnd(
        "word-ending-in-e",
        "select code from t where code='x';",
        "select code from t where code='x'",
    ),
    # Left open: only trailing blanks and semicolons go.
    QueryEnd("open-escape-string", "select E'abc\\'; -- x", "select E'abc\\'; -- x"),
    QueryEnd("open-string", "select 'abc ; ", "select 'abc"),
    QueryEnd("open-comment", "select 1 /* never closed ;", "select 1 /* never closed"),
)
