{# the remaining create options upstream passes through to pg_trickle #}
{{ config(
    materialized='stream_table',
    schedule='1h',
    refresh_mode='DIFFERENTIAL',
    initialize=false,
    pooler_compatibility_mode=true,
    temporal=false,
    storage_backend='heap',
    diamond_consistency='atomic',
    diamond_schedule_policy='fastest',
    max_differential_joins=3,
    max_delta_fraction=0.25
) }}

SELECT
    order_day,
    COUNT(*) AS order_count
FROM {{ ref('raw_orders') }}
GROUP BY order_day
