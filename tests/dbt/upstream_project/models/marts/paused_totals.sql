{{ config(materialized='stream_table', schedule='5m', refresh_mode='FULL', status='PAUSED') }}

SELECT customer_id, COUNT(*) AS order_count
FROM {{ ref('raw_orders') }}
GROUP BY customer_id
