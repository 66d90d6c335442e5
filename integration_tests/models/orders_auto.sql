-- AUTO: pg_trickle stores DIFFERENTIAL (or FULL) and dbt must not see that as a change.
{{ config(refresh_mode='AUTO', schedule='30s') }}
select order_id, customer_id, amount
from {{ ref('orders') }}
where status = 'paid'
