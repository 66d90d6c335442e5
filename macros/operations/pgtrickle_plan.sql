{#
  pgtrickle_plan(full_refresh=false)
  run-operation: print, changing nothing, what `dbt run` (or `dbt run --full-refresh`) would do
  to each stream-table model: create / alter (what) / replace query in place / recreate /
  no-op, and a status pg_trickle set that the run would leave alone. Where pg_trickle has
  explain_alter (0.91.0+), a query change also shows its class: compatible, rebuildable or
  rejected (a rejected one fails the run before any change). Each model's SQL is
  rendered here from its raw code, so models whose SQL uses `this` or other node-only context
  may render differently than in `dbt run`.
  Returns: dict of model name to plan action.
#}
{% macro pgtrickle_plan(full_refresh=false) %}
  {% if execute %}
    {%- do dbt_pg_trickle.pgtrickle_require_extension() -%}
    {%- set managed = dbt_pg_trickle.pgtrickle_managed_stream_tables() | sort(attribute='model_name') -%}
    {%- set infos = dbt_pg_trickle.pgtrickle_get_stream_tables_info(managed | map(attribute='relation') | list) -%}
    {%- set words = {
        'create': 'create', 'recreate': 'recreate (drop + create)', 'replace': 'replace query in place',
        'alter': 'alter', 'full_refresh': 'full refresh in place (repair + refresh)', 'none': 'no-op', 'skip': 'no-op (on_configuration_change=continue)',
        'fail': 'fail (on_configuration_change=fail)'} -%}
    {%- set actions = {} -%}
    {%- for st in managed -%}
      {%- set desired = st.desired -%}
      {%- do desired.update({'query': dbt_pg_trickle.pgtrickle_strip_query_end(render(st.node.raw_code))}) -%}
      {%- set plan = dbt_pg_trickle.pgtrickle_get_stream_table_plan(desired, infos.get(st.qualified_name), full_refresh) -%}
      {%- do actions.update({st.model_name: plan.action}) -%}
      {%- set rejected = plan.action == 'fail' and plan.get('query_class') == 'rejected' and desired.on_configuration_change == 'apply' -%}
      {%- do log("pg_trickle: plan: " ~ st.model_name ~ " (" ~ st.qualified_name ~ "): "
          ~ ('fail (pg_trickle rejects the new query)' if rejected else words[plan.action])
          ~ (" (" ~ plan.labels | join(', ') ~ ")" if plan.labels and plan.action != 'none' else "")
          ~ ("; query change: " ~ plan.query_class ~ (" (" ~ plan.query_class_reason ~ ")" if plan.query_class != 'compatible' else "") if plan.get('query_class') else "")
          ~ (" and drop + create again dependents " ~ plan.dependents | join(', ') if plan.dependents else "")
          ~ ("; stays " ~ plan.held ~ " (pg_trickle set it; pgtrickle_resume to clear)" if plan.held else "")
          ~ ("; NEEDS RECREATION (created before pg_trickle 0.87.16's row identity): run `dbt run --full-refresh -s " ~ st.model_name ~ "`"
             if infos.get(st.qualified_name) and infos[st.qualified_name].needs_recreation and plan.action != 'recreate' else ""), info=true) -%}
    {%- endfor -%}
    {{ return(actions) }}
  {% endif %}
{% endmacro %}
