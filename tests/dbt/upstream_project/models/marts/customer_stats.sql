{# stream_table_name / stream_table_schema: a stream table named apart from the model #}
{{ config(
    materialized='stream_table',
    schedule='2m',
    refresh_mode='DIFFERENTIAL',
    stream_table_name='customer_stats_st',
    stream_table_schema='upstream_reporting',
    cdc_mode='trigger',
    append_only=true
) }}

SELECT
    customer_id,
    SUM(amount) AS total_amount,
    COUNT(*) AS order_count
FROM {{ ref('raw_orders') }}
GROUP BY customer_id
