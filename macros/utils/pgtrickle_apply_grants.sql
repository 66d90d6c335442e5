{#
  pgtrickle_apply_grants(relation, grants, is_new, had_grants)
  Make the stream table's privileges what the model's `grants` says, as a `table` model's are
  after dbt rebuilt it. A stream table is kept in place, so what an earlier run granted
  stays unless revoked here:
  - `grants` set (even `{select: []}`): dbt's apply_grants, revoking what is no longer listed
    (nothing to revoke on a table created in this run);
  - `grants` removed or `{}`: every privilege the dbt user granted on it (what dbt's
    get_show_grant_sql lists) is revoked, read only when the catalog said there is one
    (had_grants), so an unchanged run without grants reads nothing more.
  Args: relation; grants - config.get('grants'); is_new - created in this run;
    had_grants - pgtrickle_get_stream_table_info(...).has_grants.
#}
{% macro pgtrickle_apply_grants(relation, grants, is_new, had_grants) %}
  {%- if grants -%}
    {%- do apply_grants(relation, grants, should_revoke=not is_new) -%}
  {%- elif not is_new and had_grants -%}
    {%- set current = adapter.standardize_grants_dict(run_query(get_show_grant_sql(relation))) -%}
    {%- if current -%}
      {%- do call_dcl_statements(get_dcl_statement_list(relation, current, get_revoke_sql)) -%}
      {%- do log("pg_trickle: " ~ relation.identifier ~ ": revoked " ~ current | tojson ~ " (the model sets no grants)", info=true) -%}
    {%- endif -%}
  {%- endif -%}
{% endmacro %}
