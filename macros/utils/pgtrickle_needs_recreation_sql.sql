{#
  pgtrickle_needs_recreation_sql(relid)
  A SQL boolean: the stream table whose storage OID is `relid` must be dropped and created
  again before this pg_trickle maintains it. pg_trickle 0.87.16 changed the row identity
  (`__pgt_row_id` became BYTEA NOT NULL, "row identity V2") and neither converts nor refreshes
  a table created before it (upstream CHANGELOG 0.87.16 / 0.87.17; the STORAGE_SCHEMA check of
  row_identity_v2_recreation_preflight() in sql/pg_trickle--0.87.16--0.87.17.sql). That
  function and the catalog's row_identity_version are for the extension owner only, so this
  reads the table's own column from pg_attribute, which every role may read. Always false on
  a pg_trickle older than 0.87.16, whose tables all have the old shape.
  Args: relid - SQL expression of the table's OID.
  Returns: SQL text.
#}
{% macro pgtrickle_needs_recreation_sql(relid) %}
  {%- set version = dbt_pg_trickle.pgtrickle_features().version or '0' -%}
  {%- set key = [] -%}
  {%- for part in version.split('.') -%}
    {%- set digits = part | select('in', '0123456789') | join -%}
    {%- do key.append(digits | int if digits else 0) -%}
  {%- endfor -%}
  {%- if key < [0, 87, 16] -%}{{ return('false') }}{%- endif -%}
  {{ return("exists (select from pg_catalog.pg_attribute a where a.attrelid = (" ~ relid ~ ")::oid"
            ~ " and a.attname = '__pgt_row_id' and a.attnum > 0 and not a.attisdropped"
            ~ " and (a.atttypid <> 'pg_catalog.bytea'::pg_catalog.regtype or not a.attnotnull))") }}
{% endmacro %}
