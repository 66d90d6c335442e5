-- Partitioned storage and a fuse. FULL: pg_trickle 0.67.0's differential refresh of partitioned
-- storage fails once a source changed (its row-id index cannot be unique there, and the refresh
-- upserts on it; docs/pg_trickle-contract.md, "Partitioned storage").
{{ config(partition_by='customer_id', refresh_mode='FULL', fuse='on', fuse_ceiling=1000,
          fuse_sensitivity=3) }}
select order_id, customer_id, amount
from {{ ref('orders') }}
