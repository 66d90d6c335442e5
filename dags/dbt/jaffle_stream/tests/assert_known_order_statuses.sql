-- Fails on any order status the marts do not know how to classify.
select order_id, status
from {{ ref('stg_orders') }}
where status not in ('placed', 'shipped', 'completed', 'returned')
