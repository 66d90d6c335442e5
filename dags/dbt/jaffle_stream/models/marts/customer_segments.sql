-- Reads another stream table (customer_orders); CALCULATED like every mart, so pg_trickle
-- refreshes it right after customer_orders changes.
select
    case
        when lifetime_value >= 1000 then 'vip'
        when lifetime_value >= 300 then 'regular'
        else 'occasional'
    end as segment,
    count(*) as customers,
    sum(lifetime_value) as revenue
from {{ ref('customer_orders') }}
group by 1
