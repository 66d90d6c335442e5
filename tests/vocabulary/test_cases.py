"""Every row of the case table gets the same verdict and the same canonical values from the
Python validation (`_validation.check_config`) and from the dbt package
(`pgtrickle_check_config`, in one `dbt run-operation`), and both match the table."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from airflow_provider_pgtrickle._validation import check_config
from airflow_provider_pgtrickle.testing.server import TestDatabase, TestServer
from tests.dbt._project import DbtProject
from tests.vocabulary.cases import CASES, Case

MARKER = "VOCABULARY_RESULTS "


def python_verdict(case: Case) -> dict[str, Any]:
    checked = check_config(case.raw)
    error = None if checked.error is None else vars(checked.error)
    # Through JSON, as the dbt results come: the same types on both sides.
    return json.loads(json.dumps({"value": checked.value or None, "error": error}))


def test_the_table_is_big_and_covers_every_argument() -> None:
    from airflow_provider_pgtrickle.vocabulary.config import Surface, arguments

    assert len(CASES) >= 150
    keys = {key for case in CASES for key in case.given}
    assert {a.name for a in arguments(Surface.MODEL)} <= keys
    assert sum(case.error is None for case in CASES) > 50
    assert sum(case.error is not None for case in CASES) > 50


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_python_validation_agrees_with_the_table(case: Case) -> None:
    verdict = python_verdict(case)
    if case.error is None:
        assert verdict["error"] is None, verdict["error"]
        subset = {key: verdict["value"][key] for key in case.expect}
        assert subset == case.expect
    else:
        assert verdict["error"] is not None, verdict["value"]
        assert verdict["error"]["key"] == case.error
        assert verdict["value"] is None


@pytest.fixture(scope="module")
def dbt_results(
    pgtrickle_server: TestServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[list[dict[str, Any]]]:
    db: TestDatabase = pgtrickle_server.create_database()
    try:
        project = DbtProject.create(tmp_path_factory.mktemp("dbt-vocabulary"), db.dbt_env())
        project.dbt("deps")
        args = json.dumps({"cases": [case.raw for case in CASES]})
        result = project.dbt("run-operation", "vocabulary_cases", "--args", args)
        (line,) = [line for line in result.output.splitlines() if MARKER in line]
        yield json.loads(line.split(MARKER, 1)[1])
    finally:
        pgtrickle_server.drop_database(db.dbname)


@pytest.mark.slow
def test_dbt_validation_agrees_with_python_and_the_table(
    dbt_results: list[dict[str, Any]],
) -> None:
    assert len(dbt_results) == len(CASES)
    disagreements = []
    for case, from_dbt in zip(CASES, dbt_results, strict=True):
        from_python = python_verdict(case)
        expected_key = case.error
        dbt_key = from_dbt["error"]["key"] if from_dbt["error"] else None
        if from_dbt != from_python or dbt_key != expected_key:
            disagreements.append((case.given, from_python, from_dbt))
        elif case.error is None:
            subset = {key: from_dbt["value"][key] for key in case.expect}
            if subset != case.expect:
                disagreements.append((case.given, case.expect, subset))
    assert disagreements == []
