-- A stream table reading another stream table, with a CALCULATED schedule, and the settings
-- dbt only passes through (cdc_mode, diamond_consistency, the differential limits).
{{ config(schedule=none, cdc_mode='trigger', diamond_consistency='none',
          max_differential_joins=4, max_delta_fraction=0.5) }}
select c.customer_id, c.name, c.region, t.order_count, t.total_amount
from {{ ref('customers') }} c
join {{ ref('order_totals') }} t on t.customer_id = c.customer_id
