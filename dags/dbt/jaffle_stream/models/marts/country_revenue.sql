select
    country,
    count(*) as customers,
    sum(completed_orders) as completed_orders,
    sum(lifetime_value) as revenue
from {{ ref('customer_orders') }}
group by country
