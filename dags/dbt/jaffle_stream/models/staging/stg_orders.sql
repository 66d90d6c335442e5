select
    id as order_id,
    customer_id,
    ordered_at,
    ordered_at::date as order_date,
    status,
    amount_cents / 100.0 as amount
from {{ source('jaffle_raw', 'orders') }}
