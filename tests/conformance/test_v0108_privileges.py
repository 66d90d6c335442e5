"""pg_trickle 0.108.3: deny-first privileges and the predefined roles.

Mirrors the ACL block at the end of upstream sql/archive/pg_trickle--0.108.3.sql (roles
`pgtrickle_reader`, `pgtrickle_operator`, `pgtrickle_admin`; every function revoked from
PUBLIC, the read-only diagnostics granted back, lifecycle functions granted to the roles; no
grant on the catalog tables) and src/api/helpers.rs, resolve_owned_stream_table /
check_stream_table_ownership (the outer caller must own the stream table). Each role acts on
its own connection; effects are read from a separate superuser connection.
"""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
from psycopg import sql

from airflow_provider_pgtrickle.testing.server import TestDatabase

from ._helpers import Conn, assert_pg_error, create_st, make_source, row, rows, scalar
from ._v0108 import Login, logins, owner_role, require_0108, sqlstate_of

ROLES = ("pgtrickle_reader", "pgtrickle_operator", "pgtrickle_admin")
CATALOG = (
    "pgtrickle.pgt_stream_tables",
    "pgtrickle.pgt_refresh_history",
    "pgtrickle.pgt_dependencies",
    "pgtrickle.stream_tables_info",
    # freshness(): the controller's state (0.90.0)
    "pgtrickle.pgt_freshness_controller_state",
)


@pytest.fixture(autouse=True)
def _only_0108(pgtrickle_version: str) -> None:
    require_0108(pgtrickle_version)


@pytest.fixture
def owned_table(pgtrickle_conn: Conn, pgtrickle_db: TestDatabase) -> Iterator[str]:
    """`public.t` over `src`, owned by a NOLOGIN role (yielded)."""
    make_source(pgtrickle_conn)
    create_st(pgtrickle_conn, "public.t")
    with owner_role(pgtrickle_db) as owner:
        pgtrickle_conn.execute(
            sql.SQL("ALTER TABLE public.t OWNER TO {}").format(sql.Identifier(owner))
        )
        yield owner


def test_predefined_roles_exist_nologin_in_a_chain(pgtrickle_conn: Conn) -> None:
    found = rows(
        pgtrickle_conn,
        "SELECT rolname, rolcanlogin FROM pg_roles WHERE rolname = ANY(%s) ORDER BY 1",
        [list(ROLES)],
    )
    assert [(r["rolname"], r["rolcanlogin"]) for r in found] == [
        ("pgtrickle_admin", False),
        ("pgtrickle_operator", False),
        ("pgtrickle_reader", False),
    ]
    chain = rows(
        pgtrickle_conn,
        "SELECT r.rolname AS role, m.rolname AS member FROM pg_auth_members a"
        " JOIN pg_roles r ON r.oid = a.roleid JOIN pg_roles m ON m.oid = a.member"
        " WHERE r.rolname = ANY(%s) AND m.rolname = ANY(%s) ORDER BY 1",
        [list(ROLES), list(ROLES)],
    )
    assert [(c["role"], c["member"]) for c in chain] == [
        ("pgtrickle_operator", "pgtrickle_admin"),
        ("pgtrickle_reader", "pgtrickle_operator"),
    ]


def test_second_install_in_the_cluster_reuses_the_roles(
    pgtrickle_server: object, pgtrickle_db: TestDatabase
) -> None:
    """Roles are cluster-wide: installing in another database of the same cluster works."""
    other = pgtrickle_server.create_database()  # type: ignore[attr-defined]
    try:
        with other.connect() as conn:
            assert scalar(conn, "SELECT pgtrickle.version()") == "0.108.3"
    finally:
        pgtrickle_server.drop_database(other.dbname)  # type: ignore[attr-defined]


@pytest.mark.parametrize("role", ROLES)
def test_no_role_can_read_the_catalog(pgtrickle_conn: Conn, role: str) -> None:
    for relation in CATALOG:
        assert (
            scalar(pgtrickle_conn, "SELECT has_table_privilege(%s, %s, 'SELECT')", [role, relation])
            is False
        )


# What each read function reads as the caller (src/api/diagnostics.rs pgt_status, fuse_status;
# src/monitor/mod.rs st_refresh_stats, get_refresh_history, list_sources, health_check;
# src/api/spec.rs stream_table_spec).
READS = {
    "SELECT * FROM pgtrickle.pgt_status()": ("pgtrickle.pgt_stream_tables",),
    "SELECT * FROM pgtrickle.fuse_status()": ("pgtrickle.pgt_stream_tables",),
    "SELECT * FROM pgtrickle.st_refresh_stats()": (
        "pgtrickle.pgt_stream_tables",
        "pgtrickle.pgt_refresh_history",
    ),
    "SELECT * FROM pgtrickle.get_refresh_history(name => 'public.t')": (
        "pgtrickle.pgt_stream_tables",
        "pgtrickle.pgt_refresh_history",
    ),
    "SELECT * FROM pgtrickle.list_sources(name => 'public.t')": (
        "pgtrickle.pgt_stream_tables",
        "pgtrickle.pgt_dependencies",
    ),
    "SELECT pgtrickle.stream_table_spec('public.t')": ("pgtrickle.pgt_stream_tables",),
}


def test_reader_role_alone_is_refused_by_the_read_functions(
    pgtrickle_db: TestDatabase, owned_table: str
) -> None:
    """The read functions are not SECURITY DEFINER: they read the catalog as the caller, and
    `pgtrickle_reader` holds no SELECT on it (sql/pg_trickle--0.95.0--0.96.0.sql)."""
    with (
        logins(pgtrickle_db, ("pgtrickle_reader",)) as (reader,),
        reader.connect(pgtrickle_db) as conn,
    ):
        for relation in CATALOG:
            assert sqlstate_of(conn, f"SELECT 1 FROM {relation} LIMIT 1") == "42501", relation
        for statement in READS:
            assert sqlstate_of(conn, statement) == "42501", statement
        assert sqlstate_of(conn, "SELECT * FROM pgtrickle.pgt_status()") == "42501"


@pytest.mark.parametrize("statement", sorted(READS))
def test_read_function_works_with_select_on_exactly_the_tables_it_reads(
    pgtrickle_db: TestDatabase, owned_table: str, statement: str
) -> None:
    with logins(pgtrickle_db, ("pgtrickle_reader",)) as (reader,):
        tables = READS[statement]
        with pgtrickle_db.connect() as admin:
            for table in tables[:-1]:
                admin.execute(f"GRANT SELECT ON {table} TO {reader.name}")
        with reader.connect(pgtrickle_db) as conn:
            # one table short: still refused
            assert sqlstate_of(conn, statement) == "42501"
        with pgtrickle_db.connect() as admin:
            admin.execute(f"GRANT SELECT ON {tables[-1]} TO {reader.name}")
        with reader.connect(pgtrickle_db) as conn:
            assert sqlstate_of(conn, statement) is None


def test_reader_reads_through_the_functions_once_granted_the_catalog(
    pgtrickle_db: TestDatabase, owned_table: str
) -> None:
    with logins(pgtrickle_db, ("pgtrickle_reader",)) as (reader,):
        with pgtrickle_db.connect() as admin:
            for relation in CATALOG:
                admin.execute(f"GRANT SELECT ON {relation} TO {reader.name}")
            # health_check also reads the change-buffer backlog
            admin.execute(f"GRANT USAGE ON SCHEMA pgtrickle_changes TO {reader.name}")
            admin.execute(f"GRANT SELECT ON pgtrickle_changes.pgt_pending TO {reader.name}")
        with reader.connect(pgtrickle_db) as conn:
            status = rows(conn, "SELECT name, status FROM pgtrickle.pgt_status()")
            assert [(s["name"], s["status"]) for s in status] == [("public.t", "ACTIVE")]
            history = rows(
                conn, "SELECT action, status FROM pgtrickle.get_refresh_history('public.t')"
            )
            assert [(h["action"], h["status"]) for h in history] == [("FULL", "COMPLETED")]
            stats = rows(conn, "SELECT pgt_name, total_refreshes FROM pgtrickle.st_refresh_stats()")
            assert [(s["pgt_name"], s["total_refreshes"]) for s in stats] == [("t", 1)]
            assert rows(conn, "SELECT * FROM pgtrickle.health_check()")
            spec = scalar(conn, "SELECT pgtrickle.stream_table_spec('public.t')")
            assert spec["name"] == "t"
            assert rows(conn, "SELECT * FROM pgtrickle.freshness()") == []
            assert sqlstate_of(conn, "SELECT pgtrickle.refresh_stream_table('public.t')") == "42501"


def _history_count(pgtrickle_db: TestDatabase) -> int:
    with pgtrickle_db.connect() as other:
        return int(scalar(other, "SELECT count(*) FROM pgtrickle.pgt_refresh_history"))


def _status(pgtrickle_db: TestDatabase) -> str:
    with pgtrickle_db.connect() as other:
        return str(
            scalar(other, "SELECT status FROM pgtrickle.pgt_stream_tables WHERE pgt_name = 't'")
        )


def test_operator_refreshes_pauses_resumes_an_owned_table_but_cannot_create(
    pgtrickle_db: TestDatabase, owned_table: str
) -> None:
    with (
        logins(pgtrickle_db, ("pgtrickle_operator", owned_table)) as (operator,),
        operator.connect(pgtrickle_db) as conn,
    ):
        before = _history_count(pgtrickle_db)
        conn.execute("SELECT pgtrickle.refresh_stream_table('public.t')")
        assert _history_count(pgtrickle_db) == before + 1
        conn.execute("SELECT pgtrickle.pause_stream_table('public.t')")
        assert _status(pgtrickle_db) == "SUSPENDED"
        conn.execute("SELECT pgtrickle.resume_stream_table('public.t')")
        assert _status(pgtrickle_db) == "ACTIVE"
        with pytest.raises(psycopg.Error) as info:
            conn.execute(
                "SELECT pgtrickle.create_stream_table(name => 'public.t2',"
                " query => 'SELECT id FROM src', schedule => '1h')"
            )
        assert_pg_error(info.value, "42501", prefix="permission denied for function")
        assert sqlstate_of(conn, "SELECT pgtrickle.drop_stream_table('public.t')") == "42501"
    with pgtrickle_db.connect() as other:
        assert scalar(other, "SELECT to_regclass('public.t2')") is None


def test_operator_who_does_not_own_the_table_is_refused(
    pgtrickle_db: TestDatabase, owned_table: str
) -> None:
    with (
        logins(pgtrickle_db, ("pgtrickle_operator",)) as (stranger,),
        stranger.connect(pgtrickle_db) as conn,
    ):
        before = _history_count(pgtrickle_db)
        for function in ("refresh_stream_table", "pause_stream_table"):
            with pytest.raises(psycopg.Error) as info:
                conn.execute(f"SELECT pgtrickle.{function}('public.t')")
            assert_pg_error(
                info.value,
                "42501",
                "permission denied: must be owner of stream table public.t",
            )
    assert _history_count(pgtrickle_db) == before
    assert _status(pgtrickle_db) == "ACTIVE"


def _admin_login(pgtrickle_conn: Conn, admin: Login) -> None:
    pgtrickle_conn.execute(
        sql.SQL("GRANT CREATE ON SCHEMA public TO {}").format(sql.Identifier(admin.name))
    )


def test_admin_creates_alters_and_drops_and_owns_what_it_creates(
    pgtrickle_conn: Conn, pgtrickle_db: TestDatabase
) -> None:
    make_source(pgtrickle_conn)
    with logins(pgtrickle_db, ("pgtrickle_admin",)) as (admin,):
        _admin_login(pgtrickle_conn, admin)
        pgtrickle_conn.execute(
            sql.SQL("GRANT SELECT ON src TO {}").format(sql.Identifier(admin.name))
        )
        with admin.connect(pgtrickle_db) as conn:
            conn.execute(
                "SELECT pgtrickle.create_stream_table(name => 'public.a',"
                " query => 'SELECT id, v FROM src', schedule => '1h',"
                " refresh_mode => 'DIFFERENTIAL')"
            )
            with pgtrickle_db.connect() as other:
                entry = row(
                    other,
                    "SELECT s.status, pg_get_userbyid(c.relowner) AS owner"
                    " FROM pgtrickle.pgt_stream_tables s JOIN pg_class c ON c.oid = s.pgt_relid"
                    " WHERE s.pgt_name = 'a'",
                )
            assert entry == {"status": "ACTIVE", "owner": admin.name}
            conn.execute(
                "SELECT pgtrickle.alter_stream_table(name => 'public.a', schedule => '2h')"
            )
            with pgtrickle_db.connect() as other:
                assert (
                    scalar(
                        other,
                        "SELECT schedule FROM pgtrickle.pgt_stream_tables WHERE pgt_name = 'a'",
                    )
                    == "2h"
                )
            conn.execute("SELECT pgtrickle.drop_stream_table('public.a')")
        with pgtrickle_db.connect() as other:
            assert scalar(other, "SELECT count(*) FROM pgtrickle.pgt_stream_tables") == 0
            assert scalar(other, "SELECT to_regclass('public.a')") is None


def test_admin_cannot_alter_or_drop_a_table_it_does_not_own(
    pgtrickle_db: TestDatabase, owned_table: str
) -> None:
    with (
        logins(pgtrickle_db, ("pgtrickle_admin",)) as (admin,),
        admin.connect(pgtrickle_db) as conn,
    ):
        for statement in (
            "SELECT pgtrickle.alter_stream_table(name => 'public.t', schedule => '2h')",
            "SELECT pgtrickle.drop_stream_table('public.t')",
        ):
            assert sqlstate_of(conn, statement) == "42501", statement
    with pgtrickle_db.connect() as other:
        assert (
            scalar(other, "SELECT schedule FROM pgtrickle.pgt_stream_tables WHERE pgt_name = 't'")
            == "1h"
        )


def test_admin_without_select_on_the_source_creates_nothing(
    pgtrickle_conn: Conn, pgtrickle_db: TestDatabase
) -> None:
    make_source(pgtrickle_conn)
    with logins(pgtrickle_db, ("pgtrickle_admin",)) as (admin,):
        _admin_login(pgtrickle_conn, admin)
        with admin.connect(pgtrickle_db) as conn:
            state = sqlstate_of(
                conn,
                "SELECT pgtrickle.create_stream_table(name => 'public.a',"
                " query => 'SELECT id, v FROM src', schedule => '1h')",
            )
        assert state == "42501"
    with pgtrickle_db.connect() as other:
        assert scalar(other, "SELECT count(*) FROM pgtrickle.pgt_stream_tables") == 0
        assert scalar(other, "SELECT to_regclass('public.a')") is None
