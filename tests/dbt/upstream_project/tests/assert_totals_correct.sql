-- Rows where the stream table disagrees with the source (the test fails on any row).
WITH expected AS (
    SELECT customer_id, SUM(amount) AS total_amount, COUNT(*) AS order_count
    FROM {{ ref('raw_orders') }}
    GROUP BY customer_id
)
SELECT e.customer_id
FROM expected e
FULL JOIN {{ ref('order_totals') }} a USING (customer_id)
WHERE a.total_amount IS DISTINCT FROM e.total_amount
   OR a.order_count IS DISTINCT FROM e.order_count
