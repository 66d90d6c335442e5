"""The hook classifies a query change before changing anything (pgtrickle.explain_alter,
pg_trickle 0.91.0+); on 0.67.0 the classification is a clear error naming that release and
`alter_stream_table` behaves as before. The catalog is read on a separate connection."""

from __future__ import annotations

import pytest

from airflow_provider_pgtrickle.exceptions import (
    PgTrickleDatabaseError,
    PgTrickleFeatureUnavailableError,
    StreamTableQueryChangeError,
)
from airflow_provider_pgtrickle.hooks.pgtrickle import PgTrickleHook
from airflow_provider_pgtrickle.testing.server import TestDatabase
from airflow_provider_pgtrickle.types import QueryChangeClass

from .conftest import ORDERS_QUERY, fetch

ST = "public.order_totals"
FILTERED = ORDERS_QUERY.replace("GROUP BY", "WHERE amount > 5 GROUP BY")
BROKEN = ORDERS_QUERY.replace("sum(amount)", "sum(no_such_column)")


def _query(db: TestDatabase) -> str:
    ((query,),) = fetch(
        db, "SELECT defining_query FROM pgtrickle.pgt_stream_tables WHERE pgt_name = 'order_totals'"
    )
    return str(query)


@pytest.mark.usefixtures("pgtrickle_airflow_conn", "orders")
def test_query_changes_are_classified_without_a_change(
    pgtrickle_db: TestDatabase, hook: PgTrickleHook, pgtrickle_version: str
) -> None:
    hook.create_stream_table(ST, ORDERS_QUERY)
    before = _query(pgtrickle_db)
    if pgtrickle_version == "0.67.0":
        with pytest.raises(PgTrickleFeatureUnavailableError, match=r"explain_alter.*0\.91\.0"):
            hook.explain_query_change(ST, FILTERED)
        return
    same = hook.explain_query_change(ST, before)
    assert same.classification is QueryChangeClass.COMPATIBLE
    filtered = hook.explain_query_change(ST, FILTERED)
    assert (filtered.classification, filtered.reason_code) == (
        QueryChangeClass.REBUILDABLE,
        "ALTER_QUERY_REBUILD",
    )
    broken = hook.explain_query_change(ST, BROKEN)
    assert broken.classification is QueryChangeClass.REJECTED
    assert broken.reason is not None
    assert "no_such_column" in broken.reason
    assert _query(pgtrickle_db) == before


@pytest.mark.usefixtures("pgtrickle_airflow_conn", "orders")
def test_alter_refuses_a_rejected_query_before_any_change(
    pgtrickle_db: TestDatabase, hook: PgTrickleHook, pgtrickle_version: str
) -> None:
    hook.create_stream_table(ST, ORDERS_QUERY, schedule="1m")
    before = _query(pgtrickle_db)
    if pgtrickle_version == "0.67.0":
        # pg_trickle's own error, as before.
        with pytest.raises(PgTrickleDatabaseError) as caught:
            hook.alter_stream_table(ST, query=BROKEN, schedule="5m")
        assert "classifies the new query" not in str(caught.value)
    else:
        with pytest.raises(
            StreamTableQueryChangeError, match=r"classifies the new query as `rejected`"
        ):
            hook.alter_stream_table(ST, query=BROKEN, schedule="5m")
    ((schedule,),) = fetch(
        pgtrickle_db,
        "SELECT schedule FROM pgtrickle.pgt_stream_tables WHERE pgt_name = 'order_totals'",
    )
    assert (_query(pgtrickle_db), schedule) == (before, "1m")
    hook.alter_stream_table(ST, query=FILTERED)
    assert "amount > 5" in _query(pgtrickle_db)
