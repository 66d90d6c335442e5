-- DIFFERENTIAL (the default refresh mode) with the default 1m schedule; read by customer_orders.
-- Also carries dbt's grants, persist_docs and hooks.
{{ config(
    schedule='1m',
    grants={'select': ['pgtrickle_it_reader']},
    persist_docs={'relation': true},
    pre_hook="create table if not exists {{ this.schema }}.hook_log (model text, phase text)",
    post_hook="insert into {{ this.schema }}.hook_log values ('{{ this.name }}', 'post')"
) }}
select customer_id, count(*) as order_count, sum(amount) as total_amount
from {{ ref('orders') }}
group by customer_id
