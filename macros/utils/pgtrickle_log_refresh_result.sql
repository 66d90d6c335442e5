{#
  pgtrickle_log_refresh_result(label, before, after)
  Report one manual refresh by comparing the stream table's newest refresh-history row before
  and after it: a refresh that found the table locked by another refresh returns normally
  without writing history (pg_trickle's "refresh skipped" NOTICE), so no new row means skipped.
  Returns: 'refreshed' or 'skipped'.
#}
{% macro pgtrickle_log_refresh_result(label, before, after) %}
  {%- set old_id = before.last_refresh.refresh_id if before.last_refresh else -1 -%}
  {%- set new = after.last_refresh if after else none -%}
  {%- if new and new.refresh_id > old_id -%}
    {%- do log("pg_trickle: " ~ label ~ ": refreshed (" ~ new.action ~ ": +" ~ new.rows_inserted ~ " -" ~ new.rows_deleted ~ ")", info=true) -%}
    {{ return('refreshed') }}
  {%- else -%}
    {%- do exceptions.warn("pg_trickle: " ~ label ~ ": refresh skipped, another refresh of it was in progress; nothing changed.") -%}
    {{ return('skipped') }}
  {%- endif -%}
{% endmacro %}
