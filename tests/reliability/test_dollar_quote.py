"""The dbt package's dollar quoting never lets a model body close the quote early."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from airflow_provider_pgtrickle.testing.server import TestDatabase, TestServer
from tests.dbt._project import DbtProject

pytestmark = pytest.mark.slow

ALL_OLD_TAGS = " ".join(["$pgtq$"] + [f"$pgtq{i}$" for i in range(1, 100)])

# Each body must come back from the server unchanged when quoted by the macro.
BODIES = {
    "plain": "select 1",
    "old_tags": f"select '{ALL_OLD_TAGS}'",
    "ends_with_open_tag": "select 1 -- $pgtq",
    "own_stem": "select '$pgtq_ $pgtq_0$ $pgtq_00000000_0$ $$ $ $pgtq_$'",
    "dollars_only": "select '$$$$$$'",
}

_ROUNDTRIP_MACRO = """
{% macro pgt_quote_roundtrip() %}
  {% set bodies = __BODIES__ %}
  {% for name, body in bodies.items() %}
    {% set quoted = dbt_pg_trickle.pgtrickle_dollar_quote(body) %}
    {% set got = run_query('select ' ~ quoted ~ ' as v').columns[0].values()[0] %}
    {{ log('roundtrip ' ~ name ~ ' ' ~ ('same' if got == body else 'DIFFERENT'), info=true) }}
  {% endfor %}
{% endmacro %}
"""


@pytest.fixture(scope="module")
def quote_db(pgtrickle_server: TestServer) -> Iterator[TestDatabase]:
    with pgtrickle_server.fresh_database() as db:
        yield db


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory, quote_db: TestDatabase) -> DbtProject:
    project = DbtProject.create(Path(tmp_path_factory.mktemp("quote")), quote_db.dbt_env())
    project.dbt("deps")
    return project


def test_every_body_round_trips_through_the_quote(project: DbtProject) -> None:
    bodies = "{" + ", ".join(f"{k!r}: {v!r}" for k, v in BODIES.items()) + "}"
    project.write("macros/pgt_quote_roundtrip.sql", _ROUNDTRIP_MACRO.replace("__BODIES__", bodies))
    out = project.dbt("run-operation", "pgt_quote_roundtrip").output
    for name in BODIES:
        assert f"roundtrip {name} same" in out, out


def test_model_whose_body_holds_every_old_tag(project: DbtProject, quote_db: TestDatabase) -> None:
    project.write(
        "models/hostile_tags.sql",
        "{{ config(materialized='stream_table', schedule='1m', refresh_mode='FULL') }}\n"
        f"select order_id, '{ALL_OLD_TAGS}' as tags from {{{{ ref('orders') }}}}\n",
    )
    project.dbt("seed", "-s", "orders")
    project.dbt("run", "-s", "hostile_tags")
    with quote_db.connect() as conn:
        rows = conn.execute("SELECT DISTINCT tags FROM integration.hostile_tags").fetchall()
        query = conn.execute(
            "SELECT defining_query FROM pgtrickle.pgt_stream_tables WHERE pgt_name = 'hostile_tags'"
        ).fetchone()
    assert rows == [(ALL_OLD_TAGS,)]
    assert query is not None
    assert ALL_OLD_TAGS in query[0]
