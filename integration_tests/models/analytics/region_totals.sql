-- Custom schema (`+schema: analytics` gives <target schema>_analytics).
select c.region, count(*) as order_count, sum(o.amount) as total_amount
from {{ ref('orders') }} o
join {{ ref('customers') }} c on c.customer_id = o.customer_id
group by c.region
