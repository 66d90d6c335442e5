-- Quotes and dollar signs, including the materialization's default dollar-quote tag.
{{ config(refresh_mode='FULL', schedule='1h') }}
select order_id,
       'it''s $' || amount::text as label,
       '$pgtq$ and $$' as tricky
from {{ ref('orders') }}
