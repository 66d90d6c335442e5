{#
  pgtrickle_config_error(model_name, key, value, accepted)
  Raise the compiler error every invalid config produces: it names the model, the key, the bad
  value and what is accepted, and ends with the fix.
#}
{% macro pgtrickle_config_error(model_name, key, value, accepted) %}
  {{ exceptions.raise_compiler_error(
      "pg_trickle: model `" ~ model_name ~ "`: config `" ~ key ~ "` has the invalid value "
      ~ (value | tojson) ~ "; accepted: " ~ accepted ~ ". Fix the model's config and run again.") }}
{% endmacro %}
