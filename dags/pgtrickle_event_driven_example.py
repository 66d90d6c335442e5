"""Run a DAG whenever pg_trickle refreshes a stream table with new data, with no sensor.

The asset of `analytics.order_totals` carries an `AssetWatcher` whose trigger
(`PgTrickleStreamTableRefreshedTrigger`) runs in the triggerer: it listens for pg_trickle's
notifications and fires an asset event when the table's `data_timestamp` advances. Each event
queues one run of this DAG; refreshes that found nothing new (`NO_DATA`) queue nothing. Every
watcher and deferred health sensor on the same connection id shares one listener connection in
the triggerer. See docs/event-driven.md.

Needs the Airflow connection `postgres_default` and a stream table `analytics.order_totals`
(any stream table works: change `STREAM_TABLE`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from airflow.sdk import DAG, task

from airflow_provider_pgtrickle.assets import stream_table_asset, stream_table_watcher

CONN_ID = "postgres_default"
STREAM_TABLE = "analytics.order_totals"

order_totals = stream_table_asset(
    CONN_ID,
    STREAM_TABLE,
    watchers=[stream_table_watcher(CONN_ID, STREAM_TABLE, poll_interval=60)],
)

with DAG(
    dag_id="pgtrickle_event_driven_example",
    description="runs each time pg_trickle refreshes analytics.order_totals with new data",
    schedule=[order_totals],
    start_date=datetime(2025, 1, 1),
    catchup=False,
    tags=["pg_trickle", "example", "event-driven"],
    doc_md=__doc__,
) as dag:

    @task
    def report(triggering_asset_events: Any = None) -> list[str]:
        """The `data_timestamp` of each refresh that queued this run (filled by Airflow)."""
        stamps: list[str] = []
        for events in (triggering_asset_events or {}).values():
            for event in events:
                stamps.append(str(event.extra.get("payload", {}).get("data_timestamp")))
        print(f"{STREAM_TABLE} refreshed with new data at: {', '.join(stamps) or 'unknown'}")
        return stamps

    report()
