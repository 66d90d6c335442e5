{#
  pgtrickle_upstream_create_settings(schedule, positional, keywords)
  The settings dict of pgtrickle_create_stream_table / pgtrickle_create_or_replace_stream_table
  from the arguments the upstream dbt-pgtrickle package's versions of those macros take:
  (name, query, schedule, refresh_mode, initialize, cdc_mode, partition_by, append_only,
  temporal, storage_backend, diamond_consistency, diamond_schedule_policy,
  pooler_compatibility_mode, max_differential_joins, max_delta_fraction,
  output_distribution_column). schedule none (or left out) means CALCULATED, as upstream.
  Args: schedule (the third argument), positional (the ones after it), keywords (by name).
  Returns: dict of pg_trickle argument name to value.
#}
{% macro pgtrickle_upstream_create_settings(schedule, positional, keywords) %}
  {%- set names = ['refresh_mode', 'initialize', 'cdc_mode', 'partition_by', 'append_only', 'temporal',
                   'storage_backend', 'diamond_consistency', 'diamond_schedule_policy',
                   'pooler_compatibility_mode', 'max_differential_joins', 'max_delta_fraction',
                   'output_distribution_column'] -%}
  {%- set unknown = keywords.keys() | reject('in', names + ['schedule']) | list -%}
  {%- if positional | length > names | length or unknown -%}
    {{ exceptions.raise_compiler_error("pg_trickle: unexpected arguments " ~ (unknown | join(', ') or (positional | length ~ ' positional')) ~ " to create a stream table; the arguments are (name, query, schedule, " ~ names | join(', ') ~ ").") }}
  {%- endif -%}
  {%- set settings = {} -%}
  {%- for value in positional -%}
    {%- do settings.update({names[loop.index0]: value}) -%}
  {%- endfor -%}
  {%- do settings.update(keywords) -%}
  {%- set schedule = keywords.get('schedule', schedule if schedule is defined else none) -%}
  {%- do settings.update({'schedule': 'calculated' if schedule is none else schedule}) -%}
  {{ return(settings) }}
{% endmacro %}
