# ruff: noqa: E501 - one case per line reads better than wrapped tuples
"""A generated corpus of hostile identifiers and values through the hook, every operator and
the sensor.

Every case must end in one of two ways:
- a `PgTrickleValidationError` before any SQL is sent (the statement log stays empty), or
- correct handling: success, or a project error from the server, with the database exactly as
  before except for what a success legitimately changed (then reset).
Never a raw driver or Python error, never a touched canary, never a half-created table.
One database and one pass over the corpus keep it fast: most cases fail validation.
"""

from __future__ import annotations

import itertools
import math
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest

from airflow_provider_pgtrickle.exceptions import PgTrickleError, PgTrickleValidationError
from airflow_provider_pgtrickle.hooks.pgtrickle import PgTrickleHook
from airflow_provider_pgtrickle.operators.pgtrickle import (
    PgTrickleAlterStreamTableOperator,
    PgTrickleCreateStreamTableOperator,
    PgTrickleDropStreamTableOperator,
    PgTrickleRefreshOperator,
    PgTrickleResumeOperator,
)
from airflow_provider_pgtrickle.sensors.pgtrickle import PgTrickleHealthSensor
from airflow_provider_pgtrickle.testing.pytest_plugin import StatementLog
from airflow_provider_pgtrickle.testing.server import TestDatabase

from .conftest import ORDERS_QUERY, context, snapshot

VICTIM = "public.victim"
INJECTION = "x; DROP TABLE public.canary; --"

HOSTILE_NAMES: list[Any] = [
    INJECTION,
    "public.canary; --",
    "public.canary",
    "public.orders",
    'public."canary"',
    'a"b',
    "a'b",
    "public.a'b",
    "Upper",
    "public.Orders",
    "café",
    "public.caf\u00e9",
    "\u0430dmin",  # Cyrillic a
    "a b",
    "",
    " ",
    "\x00",
    "a\x00b",
    "a\nb",
    "a\tb",
    "a.b.c",
    ".x",
    "x.",
    "..",
    "public.",
    "1abc",
    "a-b",
    "a$b",
    "$1",
    "%s",
    "%(x)s",
    "{}",
    "a;b",
    "a--b",
    "a/*b*/",
    "pg_temp.x",
    "pg_catalog.pg_class",
    "pg_toast.x",
    "information_schema.tables",
    "pgtrickle.pgt_stream_tables",
    "pgtrickle_changes.x",
    "pg_temp_1.x",
    "s" * 64 + ".x",
    "public." + "t" * 64,
    "é" * 32,
    "x" * 10_000,
    None,
    0,
    1.5,
    b"public.x",
    ["public.x"],
    {"public.x": 1},
    True,
    "public.no_such_table",
    "no_such_schema.x",
    "public.victim2",
]

HOSTILE_SCHEDULES: list[Any] = [
    "1s; DROP TABLE public.canary",
    "²",
    "١٢٣",
    "5²m",
    "99999999999999999999w",
    "9223372036854775808s",
    "0s",
    "0",
    "-1m",
    "1M",
    "1 h",
    "1h 30m",
    "@reboot",
    "@every 5m",
    "* * * * * * *",
    "* * *",
    "'; --",
    "",
    "   ",
    None,
    5,
    math.nan,
    "calculated; --",
    "\x00",
    "1h\x00",
    "@daily",
    "1h30m",
    "calculated",
]

HOSTILE_MODES: list[Any] = [
    "full; DROP TABLE public.canary",
    "FULL'",
    "fulL ",
    "AUTO",
    "auto",
    "",
    "INCREMENTAL",
    "DIFFERENTIAL",
    None,
    1,
    "ﬁll",  # a ligature that upper-cases to FILL
    "\u0130MMEDIATE",
]

HOSTILE_QUERIES: list[Any] = [
    "SELECT 1; DROP TABLE public.canary",
    "DROP TABLE public.canary",
    "SELECT id FROM public.orders; DELETE FROM public.canary",
    "DELETE FROM public.canary RETURNING x",
    "SELECT * FROM public.canary WHERE x = 42 -- '",
    "SELECT $$ $$",
    "SELECT '\\'' AS q",
    "",
    "   ",
    "\x00",
    "SELECT 1\x00",
    None,
    42,
    "SELECT pg_sleep(0) AS s FROM public.orders",
    "SELECT id FROM public.orders",
]

HOSTILE_STATUSES: list[Any] = ["PAUSED; --", "active'", "", "RUNNING", None, 0, "DELETED"]

HOSTILE_OPTIONS: list[dict[str, Any]] = [
    {"max_delta_fraction": math.nan},
    {"max_delta_fraction": math.inf},
    {"max_delta_fraction": -0.5},
    {"max_delta_fraction": "0.5"},
    {"max_delta_fraction": True},
    {"max_differential_joins": 2**31},
    {"max_differential_joins": -1},
    {"max_differential_joins": 1.5},
    {"fuse_ceiling": 2**63},
    {"fuse_sensitivity": 0},
    {"cdc_mode": "wal; --"},
    {"cdc_mode": ""},
    {"tier": "lukewarm"},
    {"diamond_consistency": "ATOMIC'"},
    {"append_only": "yes"},
    {"append_only": 1},
    {"partition_by": "id\x00"},
    {"partition_by": 5},
    {"bogus_option": 1},
    {"query; drop": 1},
]

HOSTILE_SCHEMAS: list[Any] = [
    "public; --",
    "Public",
    "pg_catalog",
    "pg_temp",
    "pg_toast",
    "information_schema",
    "pgtrickle",
    "pgtrickle_changes",
    "s" * 64,
    "",
    None,
    0,
    "a b",
    "no_such_schema",
]

HOSTILE_NUMBERS: list[Any] = [0, -1, 2**31, 2**40, 1.5, math.nan, "5", True, None]

HOSTILE_DURATIONS: list[Any] = [math.nan, math.inf, -1, "5m", True, -math.inf]

Case = tuple[str, Callable[[PgTrickleHook], Any]]


def _op(cls: type, **kwargs: Any) -> Callable[[PgTrickleHook], Any]:
    def run(hook: PgTrickleHook) -> Any:
        return cls(task_id="t", **kwargs).execute(context())

    return run


def _sensor(**kwargs: Any) -> Callable[[PgTrickleHook], Any]:
    def run(hook: PgTrickleHook) -> Any:
        return PgTrickleHealthSensor(task_id="s", poke_interval=1, **kwargs).poke(context())

    return run


def _name_cases(name: Any) -> list[Case]:
    r = repr(name)[:40]
    return [
        (f"hook.create {r}", lambda h: h.create_stream_table(name, ORDERS_QUERY)),
        (f"hook.create_or_replace {r}", lambda h: h.create_or_replace_stream_table(name, "q")),
        (f"hook.alter {r}", lambda h: h.alter_stream_table(name, schedule="5m")),
        (f"hook.drop {r}", lambda h: h.drop_stream_table(name)),
        (f"hook.drop if_exists {r}", lambda h: h.drop_stream_table(name, if_exists=True)),
        (f"hook.refresh {r}", lambda h: h.refresh_stream_table(name)),
        (f"hook.resume {r}", lambda h: h.resume_stream_table(name)),
        (f"hook.get {r}", lambda h: h.get_stream_table(name)),
        (f"hook.history {r}", lambda h: h.get_refresh_history(name)),
        (f"hook.stats {r}", lambda h: h.get_stats(names=[name])),
        (f"op.create {r}", _op(PgTrickleCreateStreamTableOperator, stream_table=name, query="q")),
        (f"op.alter {r}", _op(PgTrickleAlterStreamTableOperator, stream_table=name, schedule="5m")),
        (f"op.drop {r}", _op(PgTrickleDropStreamTableOperator, stream_table=name)),
        (f"op.refresh {r}", _op(PgTrickleRefreshOperator, stream_tables=name)),
        (f"op.refresh list {r}", _op(PgTrickleRefreshOperator, stream_tables=[VICTIM, name])),
        (f"op.resume {r}", _op(PgTrickleResumeOperator, stream_tables=name)),
        (f"sensor {r}", _sensor(stream_tables=name)),
        (f"sensor list {r}", _sensor(stream_tables=[VICTIM, name])),
    ]


def _value_cases() -> list[Case]:
    cases: list[Case] = []
    for s in HOSTILE_SCHEDULES:
        r = repr(s)[:40]
        cases += [
            (f"hook.create schedule {r}", lambda h, s=s: h.create_stream_table("public.n1", ORDERS_QUERY, schedule=s)),
            (f"hook.alter schedule {r}", lambda h, s=s: h.alter_stream_table(VICTIM, schedule=s)),
            (f"op.create schedule {r}", _op(PgTrickleCreateStreamTableOperator, stream_table="public.n2", query=ORDERS_QUERY, schedule=s)),
            (f"op.alter schedule {r}", _op(PgTrickleAlterStreamTableOperator, stream_table=VICTIM, schedule=s)),
        ]  # fmt: skip
    for m in HOSTILE_MODES:
        r = repr(m)[:40]
        cases += [
            (f"hook.create mode {r}", lambda h, m=m: h.create_stream_table("public.n1", ORDERS_QUERY, refresh_mode=m)),
            (f"hook.alter mode {r}", lambda h, m=m: h.alter_stream_table(VICTIM, refresh_mode=m)),
            (f"op.create mode {r}", _op(PgTrickleCreateStreamTableOperator, stream_table="public.n2", query=ORDERS_QUERY, refresh_mode=m)),
            (f"op.alter mode {r}", _op(PgTrickleAlterStreamTableOperator, stream_table=VICTIM, refresh_mode=m)),
        ]  # fmt: skip
    for q in HOSTILE_QUERIES:
        r = repr(q)[:40]
        cases += [
            (f"hook.create query {r}", lambda h, q=q: h.create_stream_table("public.n1", q)),
            (f"hook.create_or_replace query {r}", lambda h, q=q: h.create_or_replace_stream_table(VICTIM, q)),
            (f"hook.alter query {r}", lambda h, q=q: h.alter_stream_table(VICTIM, query=q)),
            (f"op.create query {r}", _op(PgTrickleCreateStreamTableOperator, stream_table="public.n2", query=q)),
            (f"op.alter query {r}", _op(PgTrickleAlterStreamTableOperator, stream_table=VICTIM, query=q)),
        ]  # fmt: skip
    for st in HOSTILE_STATUSES:
        r = repr(st)[:40]
        cases += [
            (f"hook.alter status {r}", lambda h, st=st: h.alter_stream_table(VICTIM, status=st)),
            (f"op.alter status {r}", _op(PgTrickleAlterStreamTableOperator, stream_table=VICTIM, status=st)),
        ]  # fmt: skip
    for o in HOSTILE_OPTIONS:
        r = repr(o)[:40]
        cases += [
            (f"hook.create options {r}", lambda h, o=o: h.create_stream_table("public.n1", ORDERS_QUERY, **o)),
            (f"hook.alter options {r}", lambda h, o=o: h.alter_stream_table(VICTIM, **o)),
            (f"op.create options {r}", _op(PgTrickleCreateStreamTableOperator, stream_table="public.n2", query=ORDERS_QUERY, options=o)),
            (f"op.alter options {r}", _op(PgTrickleAlterStreamTableOperator, stream_table=VICTIM, options=o)),
        ]  # fmt: skip
    for sc in HOSTILE_SCHEMAS:
        r = repr(sc)[:40]
        cases += [
            (f"hook.list schema {r}", lambda h, sc=sc: h.list_stream_tables(schema=sc)),
            (f"hook.stats schema {r}", lambda h, sc=sc: h.get_stats(schema=sc)),
            (f"op.refresh schema {r}", _op(PgTrickleRefreshOperator, schema=sc)),
            (f"op.resume schema {r}", _op(PgTrickleResumeOperator, schema=sc)),
            (f"sensor schema {r}", _sensor(schema=sc)),
        ]  # fmt: skip
    for n in HOSTILE_NUMBERS:
        r = repr(n)[:40]
        cases += [
            (f"hook.history max_rows {r}", lambda h, n=n: h.get_refresh_history(VICTIM, max_rows=n)),
            (f"op.refresh max_parallel {r}", _op(PgTrickleRefreshOperator, stream_tables=VICTIM, max_parallel=n)),
            (f"sensor timeout {r}", _sensor(stream_tables=VICTIM, deferrable=True, timeout=n)),
        ]  # fmt: skip
    for d in HOSTILE_DURATIONS:
        cases.append(
            (f"sensor max_staleness {d!r}", _sensor(stream_tables=VICTIM, max_staleness=d))
        )
    for container in ([], (), set(), [None], [VICTIM, 0], iter([INJECTION]), {VICTIM: 1}):
        r = repr(container)[:40]
        cases += [
            (f"op.refresh stream_tables {r}", _op(PgTrickleRefreshOperator, stream_tables=container)),
            (f"op.resume stream_tables {r}", _op(PgTrickleResumeOperator, stream_tables=container)),
            (f"sensor stream_tables {r}", _sensor(stream_tables=container)),
        ]  # fmt: skip
    return cases


def corpus() -> list[Case]:
    cases = list(itertools.chain.from_iterable(_name_cases(n) for n in HOSTILE_NAMES))
    return cases + _value_cases()


def _reset(hook: PgTrickleHook, db: TestDatabase) -> None:
    """Back to the baseline: only the victim, ACTIVE, as created."""
    with db.connect() as conn:
        names = [
            f"{s}.{n}"
            for s, n in conn.execute(
                "SELECT pgt_schema, pgt_name FROM pgtrickle.pgt_stream_tables"
            ).fetchall()
        ]
    for name in names:
        hook.drop_stream_table(name, cascade=True)
    hook.create_stream_table(VICTIM, ORDERS_QUERY, schedule="1m", refresh_mode="DIFFERENTIAL")


@pytest.mark.slow
@pytest.mark.requires_double
@pytest.mark.usefixtures("orders")
def test_hostile_corpus(
    hook: PgTrickleHook,
    pgtrickle_db: TestDatabase,
    pgtrickle_statement_log: StatementLog,
    capsys: pytest.CaptureFixture[str],
) -> None:
    cases = corpus()
    assert len(cases) >= 1000
    _reset(hook, pgtrickle_db)
    baseline = snapshot(pgtrickle_db)
    outcomes: Counter[str] = Counter()
    problems: list[str] = []
    started = time.monotonic()
    for label, call in cases:
        pgtrickle_statement_log.mark()
        try:
            call(hook)
        except PgTrickleValidationError as error:
            sent = pgtrickle_statement_log.statements()
            if sent:
                problems.append(f"{label}: validation error after SQL was sent: {sent[:2]}")
            elif not str(error).strip().endswith((".", ")")):
                problems.append(f"{label}: unclear message {error}")
            outcomes["refused before SQL"] += 1
            after = None
        except PgTrickleError:
            outcomes["project error from the server"] += 1
            after = snapshot(pgtrickle_db)
            if after != baseline:
                problems.append(f"{label}: failed but changed the database")
        except Exception as error:
            problems.append(f"{label}: raw {type(error).__name__}: {error}"[:300])
            outcomes["raw error"] += 1
            after = snapshot(pgtrickle_db)
        else:
            outcomes["succeeded"] += 1
            after = snapshot(pgtrickle_db)
        if after is not None and after != baseline:
            if after["canary"] != baseline["canary"]:
                problems.append(f"{label}: the canary changed")
            _reset(hook, pgtrickle_db)
            if snapshot(pgtrickle_db) != baseline:
                problems.append(f"{label}: could not return to the baseline")
                baseline = snapshot(pgtrickle_db)
    elapsed = time.monotonic() - started
    with capsys.disabled():
        print(f"\nhostile corpus: {len(cases)} cases in {elapsed:.1f} s: {dict(outcomes)}")
    assert not problems, "\n".join(problems[:40])
    assert snapshot(pgtrickle_db)["canary"] == [(42,)]
