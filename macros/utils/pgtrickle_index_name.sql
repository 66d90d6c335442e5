{#
  pgtrickle_index_name(relation, index)
  The name of a dbt-managed index on a stream table: dbt-postgres's name for it (the md5 of
  the columns, the relation, unique and type joined by '_', as PostgresIndexConfig.render
  builds it) without the timestamp dbt-postgres adds. Deterministic, so a later run finds the
  index by name: an equal name means an equal config, and a changed config a new name. The
  32 hex digits also tell dbt's indexes apart from pg_trickle's own (pgtrickle_get_index_plan).
  Args: relation; index - an entry of pgtrickle_check_indexes(...).
  Returns: text.
#}
{% macro pgtrickle_index_name(relation, index) %}
  {{ return(local_md5((index.columns + [relation.render(), index.unique | string, index.type | string]) | join('_'))) }}
{% endmacro %}
