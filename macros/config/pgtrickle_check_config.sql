{#
  pgtrickle_check_config(raw)
  Check a raw stream table config (pgtrickle_config_raw) against the vocabulary, without
  raising: the name and schema, then every argument in the vocabulary's order (left out or
  blank: its default, none = not managed; a schedule given as none: CALCULATED), then the
  combinations pg_trickle refuses. With IMMEDIATE the schedule is 'calculated'. Twin of
  Python's _validation.check_config (tests/vocabulary runs one table of cases through both).
  Args: raw - dict of config key -> value, with stream_table_name / stream_table_schema
    (and optionally _name_key / _schema_key, the keys an error then names).
  Returns: {'value': dict of canonical values (none on error), 'error': none or
    {'key', 'value', 'accepted'} (the first problem), 'notes': alias notes for the log}.
#}
{% macro pgtrickle_check_config(raw) %}
  {%- set vocab = dbt_pg_trickle.pgtrickle_config_vocabulary() -%}
  {%- set out = {} -%}
  {%- set notes = [] -%}
  {%- for key, origin, is_schema in [('stream_table_name', raw.get('_name_key', 'stream_table_name'), false),
                                     ('stream_table_schema', raw.get('_schema_key', 'stream_table_schema'), true)] -%}
    {%- set accepted = dbt_pg_trickle.pgtrickle_check_identifier(raw.get(key), is_schema, vocab) -%}
    {%- if accepted is not none -%}
      {{ return({'value': none, 'error': {'key': origin, 'value': raw.get(key), 'accepted': accepted}, 'notes': notes}) }}
    {%- endif -%}
    {%- do out.update({key: raw.get(key)}) -%}
  {%- endfor -%}
  {%- for name, spec in vocab.arguments.items() -%}
    {%- set value = raw.get(name) -%}
    {%- if name == 'schedule' and name in raw and value is none -%}
      {%- set value = vocab.schedule.calculated -%}
    {%- endif -%}
    {%- if (value is none or (value is string and value | trim == '')) and not (value is string and spec.kind in ['partition', 'schedule']) -%}
      {%- do out.update({name: spec.default}) -%}
    {%- else -%}
      {%- set checked = dbt_pg_trickle.pgtrickle_check_value(spec, value, vocab) -%}
      {%- if not checked.ok -%}
        {{ return({'value': none, 'error': {'key': name, 'value': raw.get(name), 'accepted': spec.accepted}, 'notes': notes}) }}
      {%- endif -%}
      {%- if spec.kind == 'word' and (value | trim | upper if spec.upper else value | trim | lower) in spec.aliases -%}
        {%- do notes.append(name ~ " '" ~ value ~ "' is read as '" ~ checked.value ~ "'") -%}
      {%- endif -%}
      {%- do out.update({name: checked.value}) -%}
    {%- endif -%}
  {%- endfor -%}
  {%- for rule in vocab.combinations -%}
    {%- set value = out.get(rule.key) -%}
    {%- if value is not none and out.get(rule.other) in rule.other_values and (rule.refused is none or value in rule.refused) -%}
      {{ return({'value': none, 'error': {'key': rule.key, 'value': value, 'accepted': rule.accepted}, 'notes': notes}) }}
    {%- endif -%}
  {%- endfor -%}
  {#- a model's schedule follows from its target_freshness (the interval, else calculated) -#}
  {%- if out.target_freshness is not none -%}
    {%- set given = raw.get('schedule') -%}
    {%- if not (given is none or (given is string and given | trim == '')) and dbt_pg_trickle.pgtrickle_check_schedule(given, vocab) != vocab.schedule.calculated -%}
      {{ return({'value': none, 'error': {'key': 'target_freshness', 'value': raw.get('target_freshness'), 'accepted': vocab.freshness.with_schedule}, 'notes': notes}) }}
    {%- endif -%}
    {%- do out.update({'schedule': vocab.schedule.calculated if out.target_freshness in vocab.freshness.words else out.target_freshness}) -%}
  {%- endif -%}
  {%- if out.refresh_mode in vocab.schedule.scheduleless_modes -%}
    {%- do out.update({'schedule': vocab.schedule.calculated}) -%}
  {%- endif -%}
  {{ return({'value': out, 'error': none, 'notes': notes}) }}
{% endmacro %}
