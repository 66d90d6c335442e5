-- Raw tables of the jaffle_stream example (the shop that the dbt project models).
CREATE SCHEMA IF NOT EXISTS jaffle_raw;

CREATE TABLE IF NOT EXISTS jaffle_raw.customers (
    id integer PRIMARY KEY,
    first_name text NOT NULL,
    last_name text NOT NULL,
    email text NOT NULL,
    country text NOT NULL,
    signed_up_at timestamptz NOT NULL
);

CREATE TABLE IF NOT EXISTS jaffle_raw.orders (
    id integer PRIMARY KEY,
    customer_id integer NOT NULL,
    ordered_at timestamptz NOT NULL,
    status text NOT NULL,
    amount_cents integer NOT NULL
);

CREATE TABLE IF NOT EXISTS jaffle_raw.events (
    id bigint PRIMARY KEY,
    customer_id integer NOT NULL,
    occurred_at timestamptz NOT NULL,
    event_type text NOT NULL
);
