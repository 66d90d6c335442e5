{#
  pgtrickle_check_orchestration_mode(desired)
  Refuse, before anything is sent, a model asking for orchestration_mode 'EXTERNAL' on a
  pg_trickle without it (before 0.93.0, e.g. 0.67.0), or for a target_freshness on one without
  that (before 0.86.0); 'MANAGED' (the default) is what such a server does anyway and passes.
  Twin of PgTrickleHook's check (capabilities.SINCE).
#}
{% macro pgtrickle_check_orchestration_mode(desired) %}
  {%- if desired.get('orchestration_mode') == 'EXTERNAL' and execute and not dbt_pg_trickle.pgtrickle_has_orchestration_mode() -%}
    {{ exceptions.raise_compiler_error(
        "pg_trickle: model `" ~ desired.model_name ~ "`: config `orchestration_mode` 'EXTERNAL' needs "
        ~ "pg_trickle 0.93.0 or newer (pgtrickle.set_orchestration_mode); this server runs pg_trickle "
        ~ (dbt_pg_trickle.pgtrickle_features().version or 'no pg_trickle')
        ~ ". Update the extension, or set orchestration_mode 'MANAGED' (the default) and run again.") }}
  {%- endif -%}
  {%- if desired.get('target_freshness') is not none and execute and not dbt_pg_trickle.pgtrickle_has_target_freshness() -%}
    {{ exceptions.raise_compiler_error(
        "pg_trickle: model `" ~ desired.model_name ~ "`: config `target_freshness` needs pg_trickle "
        ~ "0.86.0 or newer; this server runs pg_trickle "
        ~ (dbt_pg_trickle.pgtrickle_features().version or 'no pg_trickle')
        ~ ". Update the extension, or use `schedule` instead, and run again.") }}
  {%- endif -%}
{% endmacro %}
