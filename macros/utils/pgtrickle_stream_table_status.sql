{#
  pgtrickle_stream_table_status(info)
  Classify a described stream table (pgtrickle_get_stream_tables_info) for humans and for the
  refresh operations.
  Returns: one of 'error' (status ERROR), 'suspended' (SUSPENDED: paused by config, a fuse or
  the scheduler's error limit), 'erroring' (ACTIVE but failing: consecutive errors), 'initializing'
  (never populated), 'healthy'. Only 'error' and 'suspended' refuse a manual refresh.
#}
{% macro pgtrickle_stream_table_status(info) %}
  {%- if info.status == 'ERROR' -%}{{ return('error') }}
  {%- elif info.status == 'SUSPENDED' -%}{{ return('suspended') }}
  {%- elif info.consecutive_errors > 0 or info.last_error_message -%}{{ return('erroring') }}
  {%- elif not info.is_populated -%}{{ return('initializing') }}
  {%- else -%}{{ return('healthy') }}
  {%- endif -%}
{% endmacro %}
