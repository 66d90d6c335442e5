-- Partitioned storage and a fuse.
{{ config(partition_by='customer_id', fuse='on', fuse_ceiling=1000, fuse_sensitivity=3) }}
select order_id, customer_id, amount
from {{ ref('orders') }}
