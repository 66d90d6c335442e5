-- The model is called fct_daily_revenue in dbt, but the stream table is named daily_revenue
-- (config `stream_table_name`); the Cosmos health sensors follow the override.
{{ config(stream_table_name='daily_revenue') }}
select
    order_date,
    count(*) as orders,
    sum(amount) as revenue
from {{ ref('stg_orders') }}
where status = 'completed'
group by order_date
