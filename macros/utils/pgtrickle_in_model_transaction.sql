{#
  pgtrickle_in_model_transaction()
  Whether this code runs in a model's materialization, where dbt holds the connection's
  transaction open and the materialization commits it. Elsewhere (a run-operation) dbt has
  already committed the connection's transaction (clear_transaction) and will not commit again.
  Returns: bool.
#}
{% macro pgtrickle_in_model_transaction() %}
  {{ return(model is mapping and model.get('resource_type') == 'model') }}
{% endmacro %}
