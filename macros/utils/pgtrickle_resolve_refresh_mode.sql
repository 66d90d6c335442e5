{#
  pgtrickle_resolve_refresh_mode(desired_mode, actual_mode)
  The refresh mode to send to an existing stream table. pg_trickle stores AUTO as DIFFERENTIAL
  (or FULL when it downgraded the query) and rejects AUTO in alter with a CHECK violation
  (pg_trickle src/api/alter.rs, alter_stream_table_impl), so AUTO resolves to the stored mode
  when that is one AUTO picks (the vocabulary's auto_resolves_to), and to the default
  refresh_mode otherwise (leaving IMMEDIATE).
  Returns: 'DIFFERENTIAL', 'FULL' or 'IMMEDIATE'.
#}
{% macro pgtrickle_resolve_refresh_mode(desired_mode, actual_mode) %}
  {%- set vocab = dbt_pg_trickle.pgtrickle_config_vocabulary() -%}
  {%- if desired_mode != 'AUTO' -%}{{ return(desired_mode) }}
  {%- elif actual_mode in vocab.auto_resolves_to -%}{{ return(actual_mode) }}
  {%- else -%}{{ return(vocab.arguments.refresh_mode.default) }}
  {%- endif -%}
{% endmacro %}
