-- order_totals holds exactly the hand-computed totals of the seed data.
(select customer_id, order_count, total_amount from {{ ref('order_totals') }}
 except all
 select customer_id, order_count, total_amount from {{ ref('expected_order_totals') }})
union all
(select customer_id, order_count, total_amount from {{ ref('expected_order_totals') }}
 except all
 select customer_id, order_count, total_amount from {{ ref('order_totals') }})
