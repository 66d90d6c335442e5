-- TopK: pg_trickle keeps the trailing ORDER BY ... LIMIT apart from the query in its catalog;
-- an unchanged model must still read as unchanged.
{{ config(schedule='1m') }}
select order_id, amount
from {{ ref('orders') }}
order by amount desc, order_id
limit 3
