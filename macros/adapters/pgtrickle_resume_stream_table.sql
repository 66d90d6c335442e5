{#
  pgtrickle_resume_stream_table(relation)
  Resume a SUSPENDED or ERROR stream table (status ACTIVE, error counters cleared) and commit.
  Does not refresh it.
#}
{% macro pgtrickle_resume_stream_table(relation) %}
  {% do dbt_pg_trickle.pgtrickle_run_committed('pgtrickle_resume_stream_table', [dbt_pg_trickle.pgtrickle_get_resume_stream_table_sql(relation)]) %}
{% endmacro %}
