"""What a stream_table model does with the configs dbt users set on any `table` model (issue #22):
indexes, contracts, --empty, --full-refresh with dependents, grants, and the rest (refused or
honoured). One database and one small project of its own go through the steps in file order,
sharing state on purpose (each dbt run costs seconds); every assertion reads the catalog on a
new connection, so an uncommitted change fails it.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from psycopg import sql
from psycopg.rows import dict_row

from airflow_provider_pgtrickle.testing.pytest_plugin import StatementLog
from airflow_provider_pgtrickle.testing.server import TestDatabase, TestServer

from ._project import MUTATING_CALL, DbtProject

# The tests are the steps of one scenario on one project (see the `story` marker).
pytestmark = [pytest.mark.slow, pytest.mark.story]

SCHEMA = "tconf"
RAW = "tconf_raw"
READER = "pgtrickle_tconf_reader"

DBT_PROJECT = """
name: table_configs
version: "0.1.0"
config-version: 2
profile: table_configs
model-paths: ["models"]
on-run-start:
  - "do $$ begin if not exists (select from pg_roles where rolname = '{reader}')
     then create role {reader}; end if; end $$"
models:
  table_configs:
    +materialized: stream_table
    +schedule: 1h
""".replace("{reader}", READER)

PROFILES = f"""
table_configs:
  target: default
  outputs:
    default:
      type: postgres
      host: "{{{{ env_var('PGHOST') }}}}"
      port: "{{{{ env_var('PGPORT') | as_number }}}}"
      user: "{{{{ env_var('PGUSER') }}}}"
      password: "{{{{ env_var('PGPASSWORD', '') }}}}"
      dbname: "{{{{ env_var('PGDATABASE') }}}}"
      schema: {SCHEMA}
      threads: 2
"""

SOURCES = f"""
version: 2
sources:
  - name: raw
    schema: {RAW}
    tables:
      - name: orders
"""

# model file -> SQL; the YAML below adds contracts, versions and docs
MODELS = {
    # indexes
    "indexed.sql": """
{{ config(indexes=[{'columns': ['customer_id'], 'unique': true}, {'columns': ['total']}]) }}
select customer_id, sum(amount) as total, count(*) as n
from {{ source('raw', 'orders') }}
group by customer_id
""",
    # a three-level chain for --full-refresh
    "parent.sql": """
{{ config(indexes=[{'columns': ['customer_id']}], grants={'select': ['"""
    + READER
    + """']}) }}
select customer_id, sum(amount) as total
from {{ source('raw', 'orders') }}
group by customer_id
""",
    "child.sql": """
{{ config(indexes=[{'columns': ['total']}], grants={'select': ['"""
    + READER
    + """']}) }}
select customer_id, total from {{ ref('parent') }} where total > 0
""",
    "grandchild.sql": """
select customer_id, total from {{ ref('child') }} where total > 10
""",
    # grants
    "granted.sql": """
{{ config(grants={'select': ['"""
    + READER
    + """']}) }}
select id, amount from {{ source('raw', 'orders') }}
""",
    "granted_removed.sql": """
{{ config(grants={'select': ['"""
    + READER
    + """']}) }}
select id, amount from {{ source('raw', 'orders') }}
""",
    # contracts
    "contracted.sql": """
select id, customer_id, amount from {{ source('raw', 'orders') }}
""",
    "contract_wrong_type.sql": """
select id, amount from {{ source('raw', 'orders') }}
""",
    "contract_wrong_order.sql": """
select amount, id from {{ source('raw', 'orders') }}
""",
    "contract_constraints.sql": """
select id, amount from {{ source('raw', 'orders') }}
""",
    "not_enforced.sql": """
select id, amount from {{ source('raw', 'orders') }}
""",
    # other table configs
    "bad_index.sql": """
{{ config(indexes=[{'columns': ['lower(name)']}]) }}
select id from {{ source('raw', 'orders') }}
""",
    "unlogged_st.sql": """
{{ config(unlogged=true) }}
select id from {{ source('raw', 'orders') }}
""",
    "with_header.sql": """
{{ config(sql_header="set local work_mem = '64MB';") }}
select id from {{ source('raw', 'orders') }}
""",
    "documented.sql": """
{{ config(alias='documented_st', tags=['nightly'], meta={'owner': 'data'},
          docs={'show': false}, persist_docs={'relation': true, 'columns': true}) }}
select id, amount from {{ source('raw', 'orders') }}
""",
    "versioned_v1.sql": """
select id from {{ source('raw', 'orders') }}
""",
    "versioned_v2.sql": """
select id, amount from {{ source('raw', 'orders') }}
""",
    "reads_latest.sql": """
select id from {{ ref('versioned') }}
""",
}

SCHEMA_YML = """
version: 2
models:
  - name: contracted
    config:
      contract: {enforced: true}
    columns:
      - name: id
        data_type: integer
      - name: customer_id
        data_type: integer
      - name: amount
        data_type: numeric
  - name: not_enforced
    columns:
      - name: id
        data_type: text
  - name: documented
    description: "A stream table with docs"
    columns:
      - name: amount
        description: "The amount"
  - name: versioned
    latest_version: 2
    versions:
      - v: 1
      - v: 2
"""


# the models a stream table refuses (removed after the first run)
REFUSED_YML = """
version: 2
models:
  - name: contract_wrong_type
    config:
      contract: {enforced: true}
    columns:
      - name: id
        data_type: integer
      - name: amount
        data_type: text
  - name: contract_wrong_order
    config:
      contract: {enforced: true}
    columns:
      - name: id
        data_type: integer
      - name: amount
        data_type: numeric
  - name: contract_constraints
    config:
      contract: {enforced: true}
    constraints:
      - type: check
        expression: "amount > 0"
    columns:
      - name: id
        data_type: integer
        constraints:
          - type: not_null
          - type: primary_key
      - name: amount
        data_type: numeric
"""


@pytest.fixture(scope="module")
def dbt_db(pgtrickle_server: TestServer) -> Iterator[TestDatabase]:
    db = pgtrickle_server.create_database()
    # the role the models' `grants` name; creating roles is an administrator's job (the
    # on-run-start hook only covers a superuser's run)
    with db.admin_connect() as conn:
        conn.execute(
            f"do $$ begin if not exists (select from pg_roles where rolname = '{READER}')"
            f" then create role {READER}; end if; end $$"
        )
    with db.connect() as conn:
        conn.execute(f"create schema {RAW}")
        conn.execute(
            f"create table {RAW}.orders"
            " (id integer primary key, customer_id integer not null, amount numeric not null)"
        )
        conn.execute(
            f"insert into {RAW}.orders select g, g % 4, g * 2.5 from generate_series(1, 20) g"
        )
    try:
        yield db
    finally:
        pgtrickle_server.drop_database(db.dbname)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory, dbt_db: TestDatabase) -> DbtProject:
    source = tmp_path_factory.mktemp("src") / "table_configs"
    (source / "models").mkdir(parents=True)
    (source / "dbt_project.yml").write_text(DBT_PROJECT, encoding="utf-8")
    (source / "profiles.yml").write_text(PROFILES, encoding="utf-8")
    (source / "models" / "sources.yml").write_text(SOURCES, encoding="utf-8")
    (source / "models" / "schema.yml").write_text(SCHEMA_YML, encoding="utf-8")
    (source / "models" / "refused.yml").write_text(REFUSED_YML, encoding="utf-8")
    for name, text in MODELS.items():
        (source / "models" / name).write_text(text, encoding="utf-8")
    proj = DbtProject.create(tmp_path_factory.mktemp("dbt"), dbt_db.dbt_env(), Path(source))
    proj.dbt("deps")
    return proj


@pytest.fixture(scope="module")
def statement_log(pgtrickle_server: TestServer, dbt_db: TestDatabase) -> StatementLog | None:
    """Statements sent to the project's database, or None on a remote (real) server."""
    if pgtrickle_server.log_path is None:
        return None
    return StatementLog(pgtrickle_server.log_path, dbt_db.dbname)


def catalog(db: TestDatabase) -> dict[str, dict[str, Any]]:
    """`name` -> catalog row of the project's stream tables, read on a new connection."""
    with db.admin_connect(row_factory=dict_row) as conn:
        rows = conn.execute(
            "select pgt_name, pgt_id, pgt_relid, defining_query, status"
            " from pgtrickle.pgt_stream_tables where pgt_schema = %s",
            (SCHEMA,),
        ).fetchall()
    return {row["pgt_name"]: row for row in rows}


def indexes(db: TestDatabase, table: str) -> dict[str, str]:
    """index name -> definition, on a new connection."""
    with db.connect() as conn:
        rows = conn.execute(
            "select indexname, indexdef from pg_indexes where schemaname = %s and tablename = %s",
            (SCHEMA, table),
        ).fetchall()
    return dict(rows)


# how dbt-postgres names an index (index_name): the product never touches any other index
# (macros/utils/pgtrickle_get_index_plan.sql)
DBT_INDEX_NAME = re.compile(r"[0-9a-f]{32}\Z")


def own_indexes(db: TestDatabase, table: str) -> dict[str, str]:
    """The indexes pg_trickle made itself: the one on __pgt_row_id and, on a real 0.67.0, one on
    the GROUP BY columns of a DIFFERENTIAL aggregate (pg_trickle src/api/mod.rs, AUTO-IDX-1,
    `pg_trickle.auto_index` on by default; the double makes none)."""
    return {n: d for n, d in indexes(db, table).items() if not DBT_INDEX_NAME.match(n)}


def index_name(
    db: TestDatabase, table: str, columns: list[str], unique: bool = False, kind: str | None = None
) -> str:
    """dbt-postgres's index name (PostgresIndexConfig.render) without its timestamp."""
    relation = f'"{db.dbname}"."{SCHEMA}"."{table}"'
    text = "_".join([*columns, relation, str(unique), str(kind)])
    return hashlib.md5(text.encode()).hexdigest()


def grantees(db: TestDatabase, table: str) -> set[str]:
    with db.connect() as conn:
        rows = conn.execute(
            "select grantee || ':' || privilege_type from information_schema.role_table_grants"
            " where table_schema = %s and table_name = %s and grantee = %s",
            (SCHEMA, table, READER),
        ).fetchall()
    return {row[0] for row in rows}


def differing_rows(db: TestDatabase, table: str, query: str) -> int:
    """Rows of the stream table not in `query`'s result or the other way round (multisets),
    over the query's columns; read on a new connection."""
    with db.connect() as conn:
        names = [
            row[0]
            for row in conn.execute(
                "select column_name from information_schema.columns where table_schema = %s"
                " and table_name = %s and left(column_name, 5) <> '__pgt'"
                " order by ordinal_position",
                (SCHEMA, table),
            )
        ]
        columns = sql.SQL(", ").join(map(sql.Identifier, names))
        target = sql.Identifier(SCHEMA, table)
        row = conn.execute(
            sql.SQL(
                "select count(*) from ((select {c} from {t} except all select {c} from ({q}) q)"
                " union all (select {c} from ({q}) q except all select {c} from {t})) d"
            ).format(c=columns, t=target, q=sql.SQL(query))  # type: ignore[arg-type]
        ).fetchone()
    assert row is not None
    return int(row[0])


def mutating_calls(log: StatementLog | None) -> list[str] | None:
    if log is None:
        return None
    return [m.group(0) for stmt in log.statements() for m in MUTATING_CALL.finditer(stmt)]


def index_ddl(log: StatementLog | None) -> list[str] | None:
    """CREATE / DROP INDEX statements sent (dbt sends them one per line in one message)."""
    if log is None:
        return None
    return [
        line.strip()
        for stmt in log.statements()
        for line in stmt.splitlines()
        if line.strip().lower().startswith(("create index", "create unique index", "drop index"))
    ]


PARENT_QUERY = f"select customer_id, sum(amount) as total from {RAW}.orders group by customer_id"
REFUSED = {
    "contract_constraints": "config `constraints` has the invalid value"
    ' ["check", "not_null on column id", "primary_key on column id"]; accepted: no constraints',
    "contract_wrong_order": 'config `columns` has the invalid value ["id", "amount"];'
    ' accepted: the columns in the query\'s order, ["amount", "id"]',
    "contract_wrong_type": "This model has an enforced contract that failed.",
    "unlogged_st": "config `unlogged` has the invalid value true; accepted: false or unset",
    "with_header": "config `sql_header` has the invalid value",
    "bad_index": 'config `indexes` has the invalid value {"columns": ["lower(name)"]};'
    " accepted: a list of {columns: [column, ...]",
}


def test_first_run_creates_what_works_and_refuses_the_rest(
    project: DbtProject, dbt_db: TestDatabase, statement_log: StatementLog | None
) -> None:
    if statement_log is not None:
        statement_log.mark()
    run = project.dbt("run", expect_ok=False)

    statuses = {k.split(".")[-1]: v for k, v in run.statuses("model.").items()}
    assert {m for m, st in statuses.items() if st == "error"} == set(REFUSED)
    messages = run.messages()
    for model, text in REFUSED.items():
        assert f"model `{model}`" in messages[model] or "contract" in model, messages[model]
        assert text in messages[model], messages[model]
    assert "| amount      | DECIMAL         | TEXT          | data type mismatch |" in run.output
    cat = catalog(dbt_db)
    assert not set(REFUSED) & set(cat)
    # no pg_trickle call changed anything for a refused model (reading whether it exists,
    # which through pg_trickle's read functions names it, comes before the checks)
    sent = mutating_calls(statement_log)
    if statement_log is not None:
        assert sent
        for stmt in statement_log.statements():
            if MUTATING_CALL.search(stmt):
                assert not any(f"{SCHEMA}.{model}'" in stmt for model in REFUSED), stmt

    # indexes: dbt-postgres's names without the timestamp; pg_trickle's own indexes stay
    on_indexed = indexes(dbt_db, "indexed")
    own = own_indexes(dbt_db, "indexed")
    assert set(on_indexed) - {
        index_name(dbt_db, "indexed", ["customer_id"], unique=True),
        index_name(dbt_db, "indexed", ["total"]),
    } == set(own)
    assert any("__pgt_row_id" in d for d in own.values())
    assert "CREATE UNIQUE INDEX" in on_indexed[index_name(dbt_db, "indexed", ["customer_id"], True)]
    assert messages["indexed"].startswith("created; indexes created ")

    # grants, docs, alias, versions, a contract that holds, columns not enforced
    assert grantees(dbt_db, "granted") == {f"{READER}:SELECT"}
    assert {"documented_st", "versioned_v1", "versioned_v2", "contracted", "not_enforced"} <= set(
        cat
    )
    assert "documented" not in cat
    assert f'"{SCHEMA}"."versioned_v2"' in cat["reads_latest"]["defining_query"]
    with dbt_db.connect() as conn:
        row = conn.execute(
            "select obj_description(a.attrelid, 'pg_class'), col_description(a.attrelid, a.attnum)"
            " from pg_attribute a where a.attrelid = %s::regclass and a.attname = 'amount'",
            (f"{SCHEMA}.documented_st",),
        ).fetchone()
    assert row == ("A stream table with docs", "The amount")
    listed = project.dbt("ls", "--select", "tag:nightly", "--output", "name")
    assert "documented" in listed.output.split()
    # meta is dbt's own metadata: carried into the manifest, nothing sent to pg_trickle
    manifest = json.loads((project.path / "target" / "manifest.json").read_text("utf-8"))
    node = next(n for n in manifest["nodes"].values() if n["name"] == "documented")
    assert node["config"]["meta"] == {"owner": "data"}

    for model in REFUSED:
        project.remove(f"models/{model}.sql")
    project.remove("models/refused.yml")


def test_an_unchanged_project_sends_nothing(
    project: DbtProject, dbt_db: TestDatabase, statement_log: StatementLog | None
) -> None:
    before = catalog(dbt_db)
    if statement_log is not None:
        statement_log.mark()
    run = project.dbt("run")

    assert set(run.messages().values()) == {"unchanged"}
    assert mutating_calls(statement_log) in ([], None)
    assert index_ddl(statement_log) in ([], None)
    assert "[WARNING]" not in run.output
    assert "WARN" not in run.output.replace("WARN=0", "")
    assert catalog(dbt_db) == before


def test_index_and_grant_changes_and_a_contract_broken_by_a_query_change(
    project: DbtProject, dbt_db: TestDatabase, statement_log: StatementLog | None
) -> None:
    own = own_indexes(dbt_db, "indexed")
    before = catalog(dbt_db)
    project.edit(
        "models/indexed.sql",
        "{'columns': ['total']}",
        "{'columns': ['n'], 'type': 'hash'}",
    )
    project.edit("models/granted.sql", "{'select': ['" + READER + "']}", "{'select': []}")
    project.edit(
        "models/granted_removed.sql", "{{ config(grants={'select': ['" + READER + "']}) }}", ""
    )
    project.edit(
        "models/contracted.sql", "select id, customer_id,", "select id, customer_id::text,"
    )
    if statement_log is not None:
        statement_log.mark()
    run = project.dbt(
        "run", "-s", "indexed", "granted", "granted_removed", "contracted", expect_ok=False
    )

    messages = run.messages()
    hash_index = index_name(dbt_db, "indexed", ["n"], kind="hash")
    total_index = index_name(dbt_db, "indexed", ["total"])
    assert messages["indexed"] == f"unchanged; indexes created {hash_index}; dropped {total_index}"
    now = indexes(dbt_db, "indexed")
    assert total_index not in now
    assert "USING hash (n)" in now[hash_index]
    assert {n: d for n, d in now.items() if not DBT_INDEX_NAME.match(n)} == own
    if statement_log is not None:
        ddl = index_ddl(statement_log)
        assert ddl is not None
        assert len(ddl) == 2, ddl
    # grants: `{select: []}` and a removed key both revoke
    assert grantees(dbt_db, "granted") == set()
    assert grantees(dbt_db, "granted_removed") == set()
    # the contract is checked before the changed query is sent: nothing changed
    assert "This model has an enforced contract that failed." in messages["contracted"]
    assert "| customer_id | TEXT            | INTEGER       | data type mismatch |" in run.output
    assert catalog(dbt_db)["contracted"] == before["contracted"]
    project.edit("models/contracted.sql", "customer_id::text,", "customer_id,")


def test_a_query_change_that_rebuilds_the_storage_keeps_the_indexes(
    project: DbtProject, dbt_db: TestDatabase
) -> None:
    before = catalog(dbt_db)["indexed"]
    project.edit("models/indexed.sql", "count(*) as n", "count(*)::integer as n")
    run = project.dbt("run", "-s", "indexed")

    after = catalog(dbt_db)["indexed"]
    assert after["pgt_relid"] != before["pgt_relid"]  # the storage is new
    # A retyped column is one pg_trickle 0.67.0 would misfill in place, so the model is
    # dropped and created (pgtrickle_query_fits_in_place); its indexes come back either way.
    assert after["pgt_id"] != before["pgt_id"]
    assert run.messages()["indexed"].startswith(
        "recreated (query changed; its columns cannot be migrated in place); indexes created "
    ), run.messages()
    now = indexes(dbt_db, "indexed")
    assert index_name(dbt_db, "indexed", ["customer_id"], unique=True) in now
    assert index_name(dbt_db, "indexed", ["n"], kind="hash") in now
    assert any("__pgt_row_id" in d for d in now.values())


def test_index_changes_follow_on_configuration_change(
    project: DbtProject, dbt_db: TestDatabase
) -> None:
    before = indexes(dbt_db, "indexed")
    project.edit("models/indexed.sql", "config(", "config(on_configuration_change='continue', ")
    project.edit("models/indexed.sql", "'type': 'hash'", "'type': 'btree'")

    kept = project.dbt("run", "-s", "indexed")
    assert kept.messages() == {"indexed": "unchanged"}
    assert (
        "model `indexed`: indexes changed but on_configuration_change is `continue`;"
        " they were not applied." in kept.output
    )
    assert indexes(dbt_db, "indexed") == before

    project.edit("models/indexed.sql", "'continue'", "'fail'")
    failed = project.dbt("run", "-s", "indexed", expect_ok=False)
    assert (
        "model `indexed`: indexes changed but on_configuration_change is `fail`"
        in failed.messages()["indexed"]
    )
    assert indexes(dbt_db, "indexed") == before
    project.edit("models/indexed.sql", "on_configuration_change='fail', ", "")
    project.edit("models/indexed.sql", "'type': 'btree'", "'type': 'hash'")


def test_empty_run_changes_nothing_and_creates_nothing(
    project: DbtProject, dbt_db: TestDatabase, statement_log: StatementLog | None
) -> None:
    project.write("models/brand_new.sql", "select id from {{ source('raw', 'orders') }}\n")
    project.edit("models/child.sql", "total > 0", "total > 1")  # a change --empty must not send
    before = catalog(dbt_db)
    if statement_log is not None:
        statement_log.mark()
    run = project.dbt("run", "--empty")

    messages = run.messages()
    assert messages.pop("brand_new") == (
        "skipped (--empty): not created, since an empty stream table would be wrong"
    )
    assert set(messages.values()) == {"unchanged (--empty): the stream table was left as it is"}
    assert catalog(dbt_db) == before
    assert mutating_calls(statement_log) in ([], None)
    if statement_log is not None:
        assert not any("limit 0" in s for s in statement_log.statements() if "pgtrickle." in s)
    project.remove("models/brand_new.sql")
    project.edit("models/child.sql", "total > 1", "total > 0")


def test_full_refresh_of_a_parent_rebuilds_it_in_place(
    project: DbtProject, dbt_db: TestDatabase
) -> None:
    with dbt_db.connect() as conn:
        conn.execute(f"insert into {RAW}.orders values (101, 7, 100), (102, 8, 5)")
    before = catalog(dbt_db)
    assert differing_rows(dbt_db, "parent", PARENT_QUERY) > 0  # stale: schedule 1h

    run = project.dbt("run", "--full-refresh", "-s", "parent")

    assert run.messages() == {"parent": "refreshed in place (full refresh)"}
    after = catalog(dbt_db)
    for name in ("parent", "child", "grandchild"):
        assert after[name]["pgt_id"] == before[name]["pgt_id"], name
        assert after[name]["pgt_relid"] == before[name]["pgt_relid"], name
        assert after[name]["status"] == "ACTIVE", name
    assert differing_rows(dbt_db, "parent", PARENT_QUERY) == 0
    with dbt_db.connect() as conn:
        for name in ("child", "grandchild"):
            row = conn.execute(
                sql.SQL("select count(*) from {}").format(sql.Identifier(SCHEMA, name))
            ).fetchone()
            assert row is not None
            assert row[0] > 0, name
    assert index_name(dbt_db, "parent", ["customer_id"]) in indexes(dbt_db, "parent")
    assert grantees(dbt_db, "parent") == {f"{READER}:SELECT"}


def test_full_refresh_that_must_recreate_the_parent_recreates_every_dependent(
    project: DbtProject, dbt_db: TestDatabase
) -> None:
    with dbt_db.connect() as conn:
        conn.execute(
            "select pgtrickle.create_stream_table(name => %s, query => %s,"
            " schedule => '1h', refresh_mode => 'FULL')",
            (f"{SCHEMA}.outsider", f"select customer_id from {SCHEMA}.child"),
        )
    # hiding one of pg_trickle's functions takes the extension's owner (PGTRICKLE_TEST_ROLE=least)
    with dbt_db.admin_connect() as conn:
        conn.execute("alter function pgtrickle.create_or_replace_stream_table rename to hidden_cor")
    before = catalog(dbt_db)
    try:
        project.edit(
            "models/parent.sql", "sum(amount) as total", "sum(amount) as total, count(*) as n"
        )
        run = project.dbt("run", "--full-refresh", "-s", "parent")
    finally:
        with dbt_db.admin_connect() as conn:
            conn.execute(
                "alter function pgtrickle.hidden_cor rename to create_or_replace_stream_table"
            )

    parent_index = index_name(dbt_db, "parent", ["customer_id"])
    assert run.messages() == {
        "parent": "recreated (full refresh; this pg_trickle cannot replace a query in place);"
        f" indexes created {parent_index}"
    }
    assert (
        "created them again, in dependency order: tconf.child, tconf.grandchild, tconf.outsider"
        in run.output
    ) or (
        "created them again, in dependency order: tconf.child, tconf.outsider, tconf.grandchild"
        in run.output
    )
    assert (
        "stream tables dbt does not manage, from their catalog definitions: tconf.outsider"
        in run.output
    )
    after = catalog(dbt_db)
    for name in ("parent", "child", "grandchild", "outsider"):
        assert after[name]["pgt_id"] != before[name]["pgt_id"], name
        assert after[name]["status"] == "ACTIVE", name
    queries = {
        "parent": f"select customer_id, sum(amount) as total, count(*) as n from {RAW}.orders"
        " group by customer_id",
        "child": f"select customer_id, total from {SCHEMA}.parent where total > 0",
        "grandchild": f"select customer_id, total from {SCHEMA}.child where total > 10",
        "outsider": f"select customer_id from {SCHEMA}.child",
    }
    for name, query in queries.items():
        assert differing_rows(dbt_db, name, query) == 0, name
    # the dependents that are models keep their own configs: indexes and grants
    assert index_name(dbt_db, "child", ["total"]) in indexes(dbt_db, "child")
    assert grantees(dbt_db, "child") == {f"{READER}:SELECT"}
    assert index_name(dbt_db, "parent", ["customer_id"]) in indexes(dbt_db, "parent")
    assert grantees(dbt_db, "parent") == {f"{READER}:SELECT"}


def test_full_refresh_with_a_changed_create_time_setting_recreates_with_dependents(
    project: DbtProject, dbt_db: TestDatabase
) -> None:
    with dbt_db.admin_connect() as conn:
        [(reads_catalog,)] = conn.execute(
            "select has_table_privilege(%s, 'pgtrickle.pgt_stream_tables', 'select')",
            [dbt_db.user],
        ).fetchall()
    if not reads_catalog:
        pytest.skip(
            "no read function pg_trickle grants shows `temporal`: a role without catalog access "
            "does not compare it (docs/upgrading.md, section 3)"
        )
    before = catalog(dbt_db)
    project.edit("models/child.sql", "{{ config(", "{{ config(temporal=true, ")

    run = project.dbt("run", "--full-refresh", "-s", "child")

    child_index = index_name(dbt_db, "child", ["total"])
    assert run.messages() == {
        "child": "recreated (full refresh; create-time settings changed: temporal);"
        f" indexes created {child_index}"
    }
    after = catalog(dbt_db)
    assert after["parent"]["pgt_id"] == before["parent"]["pgt_id"]
    for name in ("child", "grandchild", "outsider"):
        assert after[name]["pgt_id"] != before[name]["pgt_id"], name
    with dbt_db.admin_connect() as conn:
        row = conn.execute(
            "select temporal_mode from pgtrickle.pgt_stream_tables where pgt_name = 'child'"
        ).fetchone()
    assert row == (True,)
    assert (
        differing_rows(
            dbt_db, "grandchild", f"select customer_id, total from {SCHEMA}.child where total > 10"
        )
        == 0
    )
    assert grantees(dbt_db, "child") == {f"{READER}:SELECT"}


def test_full_refresh_after_a_source_was_dropped_and_created_again(
    project: DbtProject, dbt_db: TestDatabase
) -> None:
    """As after `dbt seed --full-refresh`: pg_trickle follows sources by OID, so the parent
    must be a new stream table to read the new source (and capture its changes)."""
    with dbt_db.connect() as conn:
        conn.execute(f"create table {RAW}.orders_copy as table {RAW}.orders")
        conn.execute(f"drop table {RAW}.orders")
        conn.execute(f"alter table {RAW}.orders_copy rename to orders")
        conn.execute(f"alter table {RAW}.orders add primary key (id)")
    assert catalog(dbt_db)["parent"]["status"] == "ERROR"
    before = catalog(dbt_db)

    run = project.dbt("run", "--full-refresh", "-s", "parent")

    assert run.messages()["parent"].startswith(
        "recreated (full refresh; a source relation was dropped)"
    )
    after = catalog(dbt_db)
    for name in ("parent", "child", "grandchild", "outsider"):
        assert after[name]["pgt_id"] != before[name]["pgt_id"], name
        assert after[name]["status"] == "ACTIVE", name
    # the new parent captures the new source's changes
    with dbt_db.connect() as conn:
        conn.execute(f"insert into {RAW}.orders values (201, 9, 40)")
        conn.execute("select pgtrickle.refresh_stream_table(name => 'tconf.parent')")
    query = (
        f"select customer_id, sum(amount) as total, count(*) as n from {RAW}.orders"
        " group by customer_id"
    )
    assert differing_rows(dbt_db, "parent", query) == 0
