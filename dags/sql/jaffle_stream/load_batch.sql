-- Appends one deterministic batch of customers, orders and events to the jaffle_raw tables.
-- Values derive from each row's id through hashtext(), so every run produces the same data.
-- One statement (data-modifying CTEs) so it runs with bound parameters:
--   customers, orders, events = how many rows of each to append (named parameters).
WITH base AS (
    SELECT
        (SELECT coalesce(max(id), 0) FROM jaffle_raw.customers) AS c0,
        (SELECT coalesce(max(id), 0) FROM jaffle_raw.orders) AS o0,
        (SELECT coalesce(max(id), 0) FROM jaffle_raw.events) AS e0
),
new_customers AS (
    INSERT INTO jaffle_raw.customers (id, first_name, last_name, email, country, signed_up_at)
    SELECT
        g.id,
        v.first_name,
        v.last_name,
        lower(v.first_name || '.' || v.last_name || g.id || '@example.com'),
        (ARRAY['US', 'US', 'US', 'DE', 'FR', 'GB', 'GB', 'NL', 'ES', 'CA'])
            [1 + mod(abs(hashtext('country' || g.id)), 10)],
        timestamptz '2025-01-01 00:00+00' + g.id * interval '61 minutes'
    FROM base
    CROSS JOIN generate_series(base.c0 + 1, base.c0 + %(customers)s::integer) AS g(id)
    CROSS JOIN LATERAL (
        SELECT
            (ARRAY['Ava', 'Ben', 'Chloe', 'Daniel', 'Emma', 'Felix', 'Grace', 'Hugo', 'Isla',
                   'Jonas', 'Kira', 'Liam', 'Maya', 'Noah', 'Olivia', 'Paul', 'Quinn', 'Rosa',
                   'Sam', 'Tara', 'Umar', 'Vera', 'Will', 'Zoe'])
                [1 + mod(abs(hashtext('first' || g.id)), 24)] AS first_name,
            (ARRAY['Adams', 'Berger', 'Costa', 'Dubois', 'Evans', 'Fischer', 'Garcia', 'Hansen',
                   'Ito', 'Jansen', 'Klein', 'Lopez', 'Martin', 'Novak', 'Okafor', 'Peters'])
                [1 + mod(abs(hashtext('last' || g.id)), 16)] AS last_name
    ) AS v
    RETURNING 1
),
new_orders AS (
    INSERT INTO jaffle_raw.orders (id, customer_id, ordered_at, status, amount_cents)
    SELECT
        g.id,
        1 + mod(abs(hashtext('customer' || g.id)), (base.c0 + %(customers)s::integer)),
        timestamptz '2025-01-01 08:00+00' + g.id * interval '13 minutes',
        CASE
            WHEN mod(abs(hashtext('status' || g.id)), 100) < 70 THEN 'completed'
            WHEN mod(abs(hashtext('status' || g.id)), 100) < 82 THEN 'shipped'
            WHEN mod(abs(hashtext('status' || g.id)), 100) < 94 THEN 'placed'
            ELSE 'returned'
        END,
        500 + mod(abs(hashtext('amount' || g.id)), 25000)
    FROM base
    CROSS JOIN generate_series(base.o0 + 1, base.o0 + %(orders)s::integer) AS g(id)
    WHERE base.c0 + %(customers)s::integer > 0
    RETURNING 1
),
new_events AS (
    INSERT INTO jaffle_raw.events (id, customer_id, occurred_at, event_type)
    SELECT
        g.id,
        1 + mod(abs(hashtext('visitor' || g.id)), (base.c0 + %(customers)s::integer)),
        timestamptz '2025-01-01 08:00+00' + g.id * interval '4 minutes',
        CASE
            WHEN mod(abs(hashtext('event' || g.id)), 10) < 7 THEN 'page_view'
            WHEN mod(abs(hashtext('event' || g.id)), 10) < 9 THEN 'add_to_cart'
            ELSE 'checkout'
        END
    FROM base
    CROSS JOIN generate_series(base.e0 + 1, base.e0 + %(events)s::bigint) AS g(id)
    WHERE base.c0 + %(customers)s::integer > 0
    RETURNING 1
)
SELECT
    (SELECT count(*) FROM new_customers) AS customers,
    (SELECT count(*) FROM new_orders) AS orders,
    (SELECT count(*) FROM new_events) AS events
