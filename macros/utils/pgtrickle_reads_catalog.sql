{#
  pgtrickle_reads_catalog()
  Whether describing stream tables reads pg_trickle's catalog tables (pgt_stream_tables,
  pgt_dependencies, pgt_refresh_history) or only its granted read functions (pgt_status(),
  stream_table_spec(), fuse_status(), list_sources(), get_refresh_history(),
  st_refresh_stats()). The catalog when this role may read it (every pg_trickle 0.67.0 role
  given the grants of docs/roles-and-grants.md, a superuser on any version), since it holds
  every create-time setting; the functions otherwise (a pgtrickle_reader or pgtrickle_admin
  member on pg_trickle 0.96+, which grants no SELECT on the catalog). Which settings the
  functions cannot show: docs/pg_trickle-contract.md "Reading the catalog". Cached
  (pgtrickle_features).
#}
{% macro pgtrickle_reads_catalog() %}
  {{ return(dbt_pg_trickle.pgtrickle_features().catalog_readable) }}
{% endmacro %}
