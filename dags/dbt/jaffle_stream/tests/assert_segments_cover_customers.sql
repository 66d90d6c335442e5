-- Every customer in customer_orders lands in exactly one segment.
select s.total, c.total
from (select coalesce(sum(customers), 0) as total from {{ ref('customer_segments') }}) as s
cross join (select count(*) as total from {{ ref('customer_orders') }}) as c
where s.total <> c.total
