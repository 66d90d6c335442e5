select
    event_type,
    count(*) as events
from {{ ref('stg_events') }}
group by event_type
