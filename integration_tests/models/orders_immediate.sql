-- IMMEDIATE: maintained inside the writing transaction, no schedule.
{{ config(refresh_mode='IMMEDIATE') }}
select order_id, amount
from {{ ref('orders') }}
where amount >= 10
