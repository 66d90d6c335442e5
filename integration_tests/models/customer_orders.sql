-- A stream table reading another stream table, with a CALCULATED schedule.
{{ config(schedule=none) }}
select c.customer_id, c.name, c.region, t.order_count, t.total_amount
from {{ ref('customers') }} c
join {{ ref('order_totals') }} t on t.customer_id = c.customer_id
