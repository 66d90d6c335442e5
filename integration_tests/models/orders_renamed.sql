-- Name override: the stream table is `big_orders`, not `orders_renamed`.
{{ config(stream_table_name='big_orders') }}
select order_id, customer_id, amount
from {{ ref('orders') }}
where amount > 20
