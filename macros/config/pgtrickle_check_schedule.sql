{#
  pgtrickle_check_schedule(value, vocab=none)
  The canonical schedule for a value (not none), or none when pg_trickle would refuse it; the
  grammar is the vocabulary's (pg_trickle src/api/helpers.rs, parse_schedule): trimmed;
  'calculated' in any case; a cron alias in any case (lower-cased); a cron expression (it has a
  space) of 5 or 6 fields with their numbers in range, joined with single spaces; else bare seconds or number+unit parts in
  the vocabulary's range. An integer is bare seconds. Twin of Python's
  _validation.schedule_text.
  Returns: string or none.
#}
{% macro pgtrickle_check_schedule(value, vocab=none) %}
  {%- set g = (vocab or dbt_pg_trickle.pgtrickle_config_vocabulary()).schedule -%}
  {%- set re = modules.re -%}
  {%- if value is integer -%}{%- set value = value | string -%}{%- endif -%}
  {%- if value is not string -%}{{ return(none) }}{%- endif -%}
  {%- set text = value | trim -%}
  {%- if text == '' -%}{{ return(none) }}{%- endif -%}
  {%- if text | lower == g.calculated -%}{{ return(g.calculated) }}{%- endif -%}
  {%- if text.startswith('@') -%}
    {{ return(text | lower if text | lower in g.cron_aliases else none) }}
  {%- endif -%}
  {%- if ' ' in text -%}
    {%- set fields = text.split() -%}
    {%- set bad = [] -%}
    {%- for field in fields if not re.match(g.cron_field_pattern, field) -%}
      {%- do bad.append(field) -%}
    {%- endfor -%}
    {#- the numbers of each field in its range; steps (after /) and nth weekdays (after #) are not values -#}
    {%- set ranges = ([g.cron_seconds_range] + g.cron_field_ranges) if fields | length > g.cron_field_ranges | length else g.cron_field_ranges -%}
    {%- if (fields | length) in g.cron_field_counts -%}
      {%- for i in range(fields | length) -%}
        {%- for item in fields[i].split(',') -%}
          {%- for number in re.findall('[0-9]+', item.split('/')[0].split('#')[0]) if (number | int) < ranges[i][0] or (number | int) > ranges[i][1] -%}
            {%- do bad.append(number) -%}
          {%- endfor -%}
        {%- endfor -%}
      {%- endfor -%}
    {%- endif -%}
    {{ return(fields | join(' ') if (fields | length) in g.cron_field_counts and not bad else none) }}
  {%- endif -%}
  {%- set ns = namespace(seconds=0) -%}
  {%- if re.match(g.seconds_pattern, text) -%}
    {%- set ns.seconds = text | int -%}
  {%- elif re.match(g.duration_pattern, text) -%}
    {%- for part in re.findall(g.part_pattern, text) -%}
      {%- set ns.seconds = ns.seconds + (part[0] | int) * g.units[part[1]] -%}
    {%- endfor -%}
  {%- else -%}
    {{ return(none) }}
  {%- endif -%}
  {{ return(text if ns.seconds >= g.min_seconds and ns.seconds <= g.max_seconds else none) }}
{% endmacro %}
