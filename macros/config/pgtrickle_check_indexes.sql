{#
  pgtrickle_check_indexes(model_name, indexes)
  Check a model's `indexes` config (dbt-postgres's shape: a list of {columns, unique, type})
  before anything touches the database. Columns must be plain column names (the vocabulary's
  column rule, so they go into the SQL unquoted, as dbt-postgres sends them, and cannot carry
  anything else), not pg_trickle's own `__pgt_*` columns; `unique` a boolean; `type` an index
  access method name (lower-cased and quoted when sent). dbt-postgres also takes expressions
  as columns: a stream table model does not, so a bad value never reaches the server as SQL.
  Returns: list of {'columns': [names], 'unique': bool, 'type': text or none}, in config order.
#}
{% macro pgtrickle_check_indexes(model_name, indexes) %}
  {%- if indexes is none -%}{{ return([]) }}{%- endif -%}
  {%- set vocab = dbt_pg_trickle.pgtrickle_config_vocabulary() -%}
  {%- set accepted = "a list of {columns: [column, ...], unique: true|false, type: an index method such as 'btree', 'hash', 'gin', 'gist', 'brin'}, the columns being plain output column names of the query (not expressions, not pg_trickle's __pgt_* columns)" -%}
  {%- if indexes is string or indexes is mapping or indexes is not iterable -%}
    {%- do dbt_pg_trickle.pgtrickle_config_error(model_name, 'indexes', indexes, accepted) -%}
  {%- endif -%}
  {%- set out = [] -%}
  {%- for index in indexes -%}
    {%- set columns = index.get('columns') if index is mapping else none -%}
    {%- set check = namespace(ok=false) -%}
    {%- set check.ok = index is mapping and (index.keys() | reject('in', ['columns', 'unique', 'type']) | list | length == 0)
        and columns is iterable and columns is not string and columns is not mapping and columns | length > 0
        and index.get('unique', false) is boolean
        and (index.get('type') is none or (index.get('type') is string and modules.re.match('[A-Za-z_][A-Za-z0-9_]*\\Z', index.get('type')))) -%}
    {%- if check.ok -%}
      {%- for column in columns -%}
        {%- if column is not string or not modules.re.match(vocab.column_pattern, column) or (column | lower).startswith('__pgt') -%}
          {%- set check.ok = false -%}
        {%- endif -%}
      {%- endfor -%}
    {%- endif -%}
    {%- if not check.ok -%}
      {%- do dbt_pg_trickle.pgtrickle_config_error(model_name, 'indexes', index, accepted) -%}
    {%- endif -%}
    {%- do out.append({'columns': columns | list, 'unique': index.get('unique', false),
                       'type': (index.get('type') | lower) if index.get('type') else none}) -%}
  {%- endfor -%}
  {{ return(out) }}
{% endmacro %}
