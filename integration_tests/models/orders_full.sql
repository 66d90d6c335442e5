-- FULL refresh on a cron schedule.
{{ config(refresh_mode='FULL', schedule='*/5 * * * *') }}
select status, count(*) as orders, sum(amount) as amount
from {{ ref('orders') }}
group by status
