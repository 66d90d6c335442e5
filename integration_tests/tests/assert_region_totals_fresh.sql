-- stream_table_healthy with a staleness threshold, called directly.
{{ dbt_pg_trickle.test_stream_table_healthy(ref('region_totals'), max_staleness='1 day') }}
