"""Dependency ordering of the refresh operator (pure Python)."""

from __future__ import annotations

import pytest

from airflow_provider_pgtrickle._refresh import dependency_order, selected_ancestors
from airflow_provider_pgtrickle.exceptions import PgTrickleError
from airflow_provider_pgtrickle.types import RefreshPlanEntry, StreamTableStatus

ACTIVE = StreamTableStatus.ACTIVE


def plan(edges: dict[str, list[str]]) -> list[RefreshPlanEntry]:
    return [RefreshPlanEntry(n, ACTIVE, tuple(up)) for n, up in edges.items()]


def test_upstream_first_and_independent_tables_keep_input_order() -> None:
    p = plan({"s.c": ["s.b"], "s.b": ["s.a"], "s.a": [], "s.x": []})
    assert dependency_order(p, ["s.c", "s.b", "s.a", "s.x"]) == ["s.a", "s.x", "s.b", "s.c"]


def test_order_holds_through_unselected_intermediate_tables() -> None:
    p = plan({"s.a": [], "s.b": ["s.a"], "s.c": ["s.b"]})
    assert selected_ancestors(p, ["s.c", "s.a"]) == {"s.c": {"s.a"}, "s.a": set()}
    assert dependency_order(p, ["s.c", "s.a"]) == ["s.a", "s.c"]


def test_diamond() -> None:
    p = plan({"s.a": [], "s.b": ["s.a"], "s.c": ["s.a"], "s.d": ["s.b", "s.c"]})
    order = dependency_order(p, ["s.d", "s.c", "s.b", "s.a"])
    assert order[0] == "s.a"
    assert order[-1] == "s.d"


def test_cycle_is_reported() -> None:
    p = plan({"s.a": ["s.b"], "s.b": ["s.a"]})
    with pytest.raises(PgTrickleError, match="dependency cycle"):
        dependency_order(p, ["s.a", "s.b"])
