"""The stream tables the UI tests look at, built with plain SQL through pg_trickle's API.

Two sources, a healthy stream table, one reading it (a chain), and one put into ERROR by a
permanent refresh failure (the double's `pgtrickle_test.inject_failure` plus a scheduler tick).
"""

from __future__ import annotations

from typing import Any

import psycopg

HEALTHY = "analytics.order_totals"
CHAINED = "analytics.customer_totals"
BROKEN = "analytics.order_audit"
STREAM_TABLES = (CHAINED, BROKEN, HEALTHY)  # the page's order: by schema, then name
SOURCES = ("public.customers", "public.orders")
FAILURE = 'disk on fire: could not extend file "base/16384/24576": No space left on device'


def build(
    conn: psycopg.Connection[Any], tick: Any, admin: psycopg.Connection[Any] | None = None
) -> None:
    """Create the scenario on `conn`; `admin` (default `conn`) is a superuser connection for
    the double's test helpers and the catalog check (not granted to a least-privilege role)."""
    admin = admin or conn
    conn.execute("CREATE SCHEMA analytics")
    conn.execute(
        "CREATE TABLE public.orders (id int PRIMARY KEY, customer_id int NOT NULL,"
        " amount numeric NOT NULL)"
    )
    conn.execute("CREATE TABLE public.customers (id int PRIMARY KEY, region text NOT NULL)")
    conn.execute("INSERT INTO public.customers VALUES (1, 'north'), (2, 'south')")
    conn.execute("INSERT INTO public.orders VALUES (1, 1, 10), (2, 1, 5), (3, 2, 7)")
    create = "SELECT pgtrickle.create_stream_table(%s, %s, %s)"
    conn.execute(
        create,
        [
            HEALTHY,
            "SELECT customer_id, sum(amount) AS total FROM public.orders GROUP BY customer_id",
            "1m",
        ],
    )
    conn.execute(
        create,
        [
            CHAINED,
            "SELECT c.region, sum(t.total) AS total FROM analytics.order_totals AS t"
            " JOIN public.customers AS c ON c.id = t.customer_id GROUP BY c.region",
            "1m",
        ],
    )
    # A few refreshes of varying size, so the healthy table has a history worth charting.
    for i in range(1, 7):
        conn.execute(
            "INSERT INTO public.orders SELECT g, g %% %s::int, g"
            " FROM generate_series(%s::int, %s::int) AS g",
            [i * 3, i * 1000, i * 1000 + i * 40],
        )
        conn.execute("SELECT pgtrickle.refresh_stream_table(%s)", [HEALTHY])
    conn.execute(create, [BROKEN, "SELECT id, amount FROM public.orders WHERE amount > 6", "1s"])
    admin.execute("SELECT pgtrickle_test.inject_failure(%s, %s, true)", [BROKEN, FAILURE])
    admin.execute("SELECT pgtrickle_test.age_stream_table(%s, '1 hour')", [BROKEN])
    tick()
    status = admin.execute(
        "SELECT status FROM pgtrickle.pgt_stream_tables WHERE pgt_schema || '.' || pgt_name = %s",
        [BROKEN],
    ).fetchone()
    assert status == ("ERROR",), status
