{#
  create_outside_stream_tables()
  Stream tables the project does not define as models, created through the package's adapter
  macros with the arguments upstream's take (name, query, schedule, refresh_mode, initialize,
  cdc_mode, ... by keyword): `dbt run-operation create_outside_stream_tables`.
#}
{% macro create_outside_stream_tables() %}
  {% if execute %}
    {% do dbt_pg_trickle.pgtrickle_create_stream_table(
         'public.outside_totals',
         'select customer_id, count(*) as n from ' ~ ref('raw_orders') ~ ' group by customer_id',
         '5m', 'DIFFERENTIAL', true, none, append_only=false) %}
    {% do dbt_pg_trickle.pgtrickle_create_or_replace_stream_table(
         'public.outside_top', 'select customer_id from public.outside_totals where n > 1',
         none, 'FULL', true) %}
  {% endif %}
{% endmacro %}
