select
    id as event_id,
    customer_id,
    occurred_at,
    event_type
from {{ source('jaffle_raw', 'events') }}
