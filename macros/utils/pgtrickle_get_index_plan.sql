{#
  pgtrickle_get_index_plan(relation, indexes, existing)
  What makes the stream table's indexes match the model's `indexes` config: create the
  configured ones that are missing, drop dbt-managed ones no longer configured. dbt-managed
  means named as pgtrickle_index_name names them (32 hex digits); every other index - the
  ones pg_trickle made itself on __pgt_row_id or for GROUP BY / DISTINCT keys, or any a user
  added by hand - is never touched. Nothing is sent when they already match.
  Args: relation; indexes - pgtrickle_check_indexes(...); existing - names of the indexes on
    the table now (pgtrickle_get_index_names).
  Returns: {'statements': SQL texts, 'created': names, 'dropped': names}.
#}
{% macro pgtrickle_get_index_plan(relation, indexes, existing) %}
  {%- set wanted = {} -%}
  {%- for index in indexes -%}
    {%- do wanted.update({dbt_pg_trickle.pgtrickle_index_name(relation, index): index}) -%}
  {%- endfor -%}
  {%- set statements = [] -%}
  {%- set dropped = [] -%}
  {%- for name in existing | sort if modules.re.match('[0-9a-f]{32}\\Z', name) and name not in wanted -%}
    {%- do dropped.append(name) -%}
    {%- do statements.append('drop index if exists ' ~ adapter.quote(relation.schema) ~ '.' ~ adapter.quote(name)) -%}
  {%- endfor -%}
  {%- set created = [] -%}
  {%- for name, index in wanted.items() if name not in existing -%}
    {%- do created.append(name) -%}
    {#- columns passed pgtrickle_check_indexes (plain names); the method is quoted -#}
    {%- do statements.append('create ' ~ ('unique ' if index.unique else '') ~ 'index ' ~ adapter.quote(name)
        ~ ' on ' ~ relation ~ ((' using ' ~ adapter.quote(index.type)) if index.type else '')
        ~ ' (' ~ index.columns | join(', ') ~ ')') -%}
  {%- endfor -%}
  {{ return({'statements': statements, 'created': created, 'dropped': dropped}) }}
{% endmacro %}
