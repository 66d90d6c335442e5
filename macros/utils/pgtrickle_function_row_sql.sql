{#
  pgtrickle_function_row_sql(status, spec, fuse)
  A SQL expression building, from pg_trickle's granted read functions, a JSON object with the
  keys of a `pgtrickle.pgt_stream_tables` row that those functions show, so
  pgtrickle_stream_table_info_from_row reads both paths by column name
  (pgtrickle_reads_catalog). Sources, by upstream's src/api files: status - a row of
  pgt_status() (name, status, refresh_mode, is_populated, consecutive_errors, schedule,
  data_timestamp); spec - stream_table_spec(text) (jsonb: name, schema, query (original_query,
  else defining_query), cdc_mode (requested_cdc_mode), oid); fuse - a row of fuse_status()
  (fuse_mode, fuse_state, fuse_ceiling, fuse_sensitivity, blow_reason), or NULLs; and
  last_error_message from st_refresh_stats(), read only for a table that is failing or held
  (ERROR, SUSPENDED, consecutive errors), since that function aggregates every table's history.
  Args: the SQL aliases of the three.
  Returns: SQL text (a jsonb expression).
#}
{% macro pgtrickle_function_row_sql(status, spec, fuse) %}
  {%- set sql -%}
(jsonb_build_object(
    'pgt_relid', ({{ spec }} ->> 'oid')::bigint,
    'pgt_schema', {{ spec }} ->> 'schema',
    'pgt_name', {{ spec }} ->> 'name',
    'original_query', {{ spec }} ->> 'query',
    'defining_query', {{ spec }} ->> 'query',
    'requested_cdc_mode', {{ spec }} ->> 'cdc_mode',
    'schedule', {{ status }}.schedule,
    'refresh_mode', {{ status }}.refresh_mode,
    'status', {{ status }}.status,
    'is_populated', {{ status }}.is_populated,
    'consecutive_errors', {{ status }}.consecutive_errors,
    'data_timestamp', {{ status }}.data_timestamp,
    'fuse_mode', {{ fuse }}.fuse_mode,
    'fuse_state', {{ fuse }}.fuse_state,
    'fuse_ceiling', {{ fuse }}.fuse_ceiling,
    'fuse_sensitivity', {{ fuse }}.fuse_sensitivity,
    'blow_reason', {{ fuse }}.blow_reason,
    'last_error_message', case when {{ status }}.consecutive_errors > 0 or {{ status }}.status in ('ERROR', 'SUSPENDED')
        then (select e.last_error_message from pgtrickle.st_refresh_stats() e
              where e.pgt_schema = {{ spec }} ->> 'schema' and e.pgt_name = {{ spec }} ->> 'name') end)
    {#- the catalog columns no granted function shows: present, NULL (pgtrickle_unread_settings) -#}
    {%- for column in ['pgt_id', 'topk_limit', 'topk_order_by', 'topk_offset', 'st_partition_key',
                       'is_append_only', 'diamond_consistency', 'diamond_schedule_policy',
                       'max_differential_joins', 'max_delta_fraction', 'temporal_mode',
                       'pooler_compatibility_mode', 'storage_backend', 'last_refresh_at'] %}
    || jsonb_build_object('{{ column }}', null)
    {%- endfor %})
  {%- endset -%}
  {{ return(sql) }}
{% endmacro %}
