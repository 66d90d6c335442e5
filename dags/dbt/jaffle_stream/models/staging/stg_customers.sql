select
    id as customer_id,
    first_name || ' ' || last_name as full_name,
    email,
    country,
    signed_up_at
from {{ source('jaffle_raw', 'customers') }}
