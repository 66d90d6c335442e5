{#
  pgtrickle_held_reason(info)
  Why pg_trickle, not the model, set this stream table's status, or none. A run never overrides
  such a status: resuming a table whose refreshes keep failing would only hide the failure.
  Held: ERROR; SUSPENDED by a blown fuse; SUSPENDED with consecutive refresh errors (the
  scheduler's error limit). A SUSPENDED table with neither was paused by a user or a model.
  Args: info - pgtrickle_get_stream_table_info(...).
  Returns: a phrase such as "SUSPENDED by its fuse (...)", or none.
#}
{% macro pgtrickle_held_reason(info) %}
  {%- set detail = (' (' ~ info.last_error_message ~ ')') if info.last_error_message else '' -%}
  {%- if info.status == 'ERROR' -%}
    {{ return('in ERROR' ~ detail) }}
  {%- elif info.status == 'SUSPENDED' and info.fuse_state == 'blown' -%}
    {{ return('SUSPENDED by its fuse' ~ ((' (' ~ info.blow_reason ~ ')') if info.blow_reason else '')) }}
  {%- elif info.status == 'SUSPENDED' and info.consecutive_errors > 0 -%}
    {{ return('SUSPENDED after ' ~ info.consecutive_errors ~ ' consecutive refresh errors' ~ detail) }}
  {%- endif -%}
  {{ return(none) }}
{% endmacro %}
