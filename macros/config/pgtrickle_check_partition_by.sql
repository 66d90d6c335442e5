{#
  pgtrickle_check_partition_by(value, vocab=none)
  Whether a partition_by value follows the vocabulary's grammar (pg_trickle
  src/api/helpers.rs, validate_partition_key): [LIST:|HASH:]col[,col...][:N], one column for
  LIST and HASH, a modulus :N in the vocabulary's range for HASH only. Whether the columns are
  output columns of the query is left to pg_trickle. Twin of Python's _validation._partition_ok.
  Returns: true or false.
#}
{% macro pgtrickle_check_partition_by(value, vocab=none) %}
  {%- set p = (vocab or dbt_pg_trickle.pgtrickle_config_vocabulary()).partition -%}
  {%- set parts = modules.re.match(p.pattern, value) if value is string else none -%}
  {%- if parts is none -%}{{ return(false) }}{%- endif -%}
  {%- set kind = (parts.group(1) or 'range') | lower -%}
  {%- if kind in p.single_column and ',' in parts.group(2) -%}{{ return(false) }}{%- endif -%}
  {%- if parts.group(3) is not none -%}
    {{ return(kind == p.modulus_kind and (parts.group(3) | int) >= p.modulus[0] and (parts.group(3) | int) <= p.modulus[1]) }}
  {%- endif -%}
  {{ return(true) }}
{% endmacro %}
