-- One row per customer with at least one completed order, maintained differentially from
-- the changes pg_trickle captures in the staging stream tables.
select
    c.customer_id,
    c.full_name,
    c.country,
    count(*) as completed_orders,
    sum(o.amount) as lifetime_value,
    min(o.ordered_at) as first_order_at,
    max(o.ordered_at) as last_order_at
from {{ ref('stg_customers') }} as c
join {{ ref('stg_orders') }} as o on o.customer_id = c.customer_id
where o.status = 'completed'
group by c.customer_id, c.full_name, c.country
