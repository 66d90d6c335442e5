-- Created SUSPENDED ('PAUSED' is accepted as its alias): populated once, then not refreshed.
{{ config(status='PAUSED') }}
select order_id, status
from {{ ref('orders') }}
