"""The Python and the dbt scanner of a query's end agree with the case table, and a query the
old scanner cut short (an escape string holding `\\'; --`) deploys through the hook as written."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from airflow_provider_pgtrickle._sql import strip_query_end
from airflow_provider_pgtrickle.hooks.pgtrickle import PgTrickleHook
from airflow_provider_pgtrickle.testing.server import TestDatabase, TestServer
from airflow_provider_pgtrickle.types import DeployOutcome
from tests.dbt._project import DbtProject
from tests.vocabulary.query_end_cases import QUERY_END_CASES, QueryEnd

MARKER = "QUERY_END_RESULTS "


@pytest.mark.parametrize("case", QUERY_END_CASES, ids=lambda case: case.id)
def test_python_agrees_with_the_table(case: QueryEnd) -> None:
    assert strip_query_end(case.query) == case.sent


@pytest.fixture(scope="module")
def dbt_results(
    pgtrickle_server: TestServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[list[str]]:
    db: TestDatabase = pgtrickle_server.create_database()
    try:
        project = DbtProject.create(tmp_path_factory.mktemp("dbt-query-end"), db.dbt_env())
        project.dbt("deps")
        args = json.dumps({"queries": [case.query for case in QUERY_END_CASES]})
        result = project.dbt("run-operation", "query_end_cases", "--args", args)
        (line,) = [line for line in result.output.splitlines() if MARKER in line]
        yield json.loads(line.split(MARKER, 1)[1])
    finally:
        pgtrickle_server.drop_database(db.dbname)


@pytest.mark.slow
def test_dbt_agrees_with_the_table(dbt_results: list[str]) -> None:
    wrong = [
        (case.id, got)
        for case, got in zip(QUERY_END_CASES, dbt_results, strict=True)
        if got != case.sent
    ]
    assert wrong == []


def test_an_escape_string_with_a_quote_and_a_comment_deploys_as_written(
    pgtrickle_airflow_conn: str, pgtrickle_db: TestDatabase
) -> None:
    with pgtrickle_db.connect() as conn:
        conn.execute("CREATE TABLE public.t (id int PRIMARY KEY)")
        conn.execute("INSERT INTO public.t VALUES (1)")
    query = "select id, E'\\'; --' as s from public.t"
    hook = PgTrickleHook(postgres_conn_id=pgtrickle_airflow_conn)
    outcome = hook.create_or_replace_stream_table("public.escaped", query + ";\n-- note\n")
    assert outcome.action is DeployOutcome.CREATED
    with pgtrickle_db.connect() as conn:
        stored = conn.execute(
            "SELECT coalesce(original_query, defining_query) FROM pgtrickle.pgt_stream_tables"
            " WHERE pgt_name = 'escaped'"
        ).fetchall()
        rows = conn.execute("SELECT id, s FROM public.escaped").fetchall()
    assert stored == [(query,)]
    assert rows == [(1, "'; --")]
