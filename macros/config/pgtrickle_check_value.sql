{#
  pgtrickle_check_value(spec, value, vocab=none)
  Check one given (not none) config value against its vocabulary entry `spec` (an item of
  pgtrickle_config_vocabulary().arguments): words are trimmed, case-folded and their aliases
  resolved; booleans may be the words true/false; integers must be integers (not booleans, not
  floats), numbers finite; both within the entry's range. Twin of Python's
  _validation._canonical.
  Returns: {'ok': bool, 'value': the canonical value or none}.
#}
{% macro pgtrickle_check_value(spec, value, vocab=none) %}
  {#- vocab: the vocabulary when the caller has it already (building it costs a little) -#}
  {%- set vocab = vocab or dbt_pg_trickle.pgtrickle_config_vocabulary() -%}
  {%- set kind = spec.kind -%}
  {%- if kind == 'word' -%}
    {%- if value is not string -%}{{ return({'ok': false, 'value': none}) }}{%- endif -%}
    {%- set text = (value | trim | upper) if spec.upper else (value | trim | lower) -%}
    {%- set text = spec.aliases.get(text, text) -%}
    {{ return({'ok': text in spec.words, 'value': text if text in spec.words else none}) }}
  {%- elif kind == 'boolean' -%}
    {%- if value is boolean -%}{{ return({'ok': true, 'value': value}) }}{%- endif -%}
    {%- if value is string and value | trim | lower in vocab.boolean_words -%}
      {{ return({'ok': true, 'value': vocab.boolean_words[value | trim | lower]}) }}
    {%- endif -%}
    {{ return({'ok': false, 'value': none}) }}
  {%- elif kind in ['integer', 'number'] -%}
    {%- set typed = (value is integer) if kind == 'integer' else (value is number and value is not boolean) -%}
    {%- if not typed or (value | string | lower) in ['nan', 'inf', '-inf']
          or (spec.minimum is not none and value < spec.minimum)
          or (spec.maximum is not none and value > spec.maximum) -%}
      {{ return({'ok': false, 'value': none}) }}
    {%- endif -%}
    {{ return({'ok': true, 'value': value}) }}
  {%- elif kind == 'schedule' -%}
    {%- set text = dbt_pg_trickle.pgtrickle_check_schedule(value, vocab) -%}
    {{ return({'ok': text is not none, 'value': text}) }}
  {%- elif kind == 'freshness' -%}
    {#- target_freshness: 'manual', 'on_commit' or a duration (bare seconds / number+unit) -#}
    {%- if value is not string -%}{{ return({'ok': false, 'value': none}) }}{%- endif -%}
    {%- set text = value | trim | lower -%}
    {%- if text in vocab.freshness.words -%}{{ return({'ok': true, 'value': text}) }}{%- endif -%}
    {%- set g = vocab.schedule -%}
    {%- if modules.re.match(g.seconds_pattern, text) or modules.re.match(g.duration_pattern, text) -%}
      {%- set duration = dbt_pg_trickle.pgtrickle_check_schedule(text, vocab) -%}
      {{ return({'ok': duration is not none, 'value': duration}) }}
    {%- endif -%}
    {{ return({'ok': false, 'value': none}) }}
  {%- elif kind == 'partition' -%}
    {%- set ok = dbt_pg_trickle.pgtrickle_check_partition_by(value, vocab) -%}
    {{ return({'ok': ok, 'value': (value | trim) if ok else none}) }}
  {%- else -%}
    {%- set ok = value is string and modules.re.match(vocab.column_pattern, value) is not none -%}
    {{ return({'ok': ok, 'value': value if ok else none}) }}
  {%- endif -%}
{% endmacro %}
