{#
  pgtrickle_stream_table_info_from_row(row_json, last_refresh_json=none, extra={})
  Turn one `pgtrickle.pgt_stream_tables` row (read as JSON text, so columns an older
  pg_trickle lacks read as none) into the dict pgtrickle_get_stream_tables_info documents.
  Args: row_json - to_jsonb(row)::text, or the same keys built from the read functions
    (pgtrickle_function_row_sql); last_refresh_json - the newest refresh history row as
    JSON text, or none; extra - keys the describing query computed (depth, dependents,
    has_dependents, needs_recreation, unknown), merged last.
  Returns: the dict.
#}
{% macro pgtrickle_stream_table_info_from_row(row_json, last_refresh_json=none, extra={}) %}
  {%- set row = fromjson(row_json) -%}
  {#- TopK: pg_trickle keeps the trailing ORDER BY ... LIMIT in topk_* columns, not in
      defining_query (pg_trickle src/api/create.rs) -#}
  {%- set topk = none -%}
  {%- set query = row.original_query or row.defining_query -%}
  {%- if row.topk_limit is not none -%}
    {%- set topk = {'order_by': row.topk_order_by, 'limit': row.topk_limit | int,
                    'offset': (row.topk_offset | int) if row.topk_offset is not none else none} -%}
    {%- if not row.original_query -%}
      {%- set query = row.defining_query ~ ' ORDER BY ' ~ topk.order_by ~ ' LIMIT ' ~ topk.limit
                      ~ (' OFFSET ' ~ topk.offset if topk.offset is not none else '') -%}
    {%- endif -%}
  {%- endif -%}
  {%- set info = {
      'pgt_id': row.pgt_id,
      'relid': row.pgt_relid,
      'schema': row.pgt_schema,
      'name': row.pgt_name,
      'qualified_name': row.pgt_schema ~ '.' ~ row.pgt_name,
      'query': query,
      'original_query': row.original_query,
      'defining_query': row.defining_query,
      'topk': topk,
      'schedule': row.schedule,
      'refresh_mode': row.refresh_mode,
      'status': row.status,
      'is_populated': row.is_populated,
      'cdc_mode': (row.requested_cdc_mode | lower) if row.requested_cdc_mode else none,
      'partition_by': row.st_partition_key or none,
      'append_only': row.is_append_only or false,
      'fuse': (row.fuse_mode or 'off') | lower,
      'fuse_ceiling': row.fuse_ceiling,
      'fuse_sensitivity': row.fuse_sensitivity,
      'fuse_state': row.fuse_state or 'armed',
      'blow_reason': row.blow_reason,
      'diamond_consistency': (row.diamond_consistency or 'atomic') | lower,
      'diamond_schedule_policy': (row.diamond_schedule_policy or 'fastest') | lower,
      'max_differential_joins': row.max_differential_joins,
      'max_delta_fraction': row.max_delta_fraction,
      'temporal': row.temporal_mode or false,
      'pooler_compatibility_mode': row.pooler_compatibility_mode or false,
      'storage_backend': row.storage_backend,
      'orchestration_mode': row.get('orchestration_mode') or 'MANAGED',
      'target_freshness_mode': row.get('target_freshness_mode'),
      'consecutive_errors': row.consecutive_errors or 0,
      'last_error_message': row.last_error_message,
      'last_refresh_at': row.last_refresh_at,
      'data_timestamp': row.data_timestamp,
      'depth': none,
      'dependents': none,
      'has_dependents': false,
      'last_refresh': fromjson(last_refresh_json) if last_refresh_json else none,
      'needs_recreation': false,
      'unknown': [],
  } -%}
  {%- do info.update(extra) -%}
  {{ return(info) }}
{% endmacro %}
