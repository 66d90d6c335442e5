{#
  pgtrickle_unread_settings()
  The described settings (keys of pgtrickle_get_stream_table_info) that no read function
  pg_trickle grants a non-owner shows (pgt_status(), stream_table_spec(), fuse_status(); see
  docs/pg_trickle-contract.md "Reading the catalog"). A description read through the functions
  lists them under `unknown`, and a run does not compare them (pgtrickle_stream_table_changes):
  an unknown value is not a difference, so an unchanged model stays a no-op.
  Returns: list of info keys.
#}
{% macro pgtrickle_unread_settings() %}
  {{ return(['diamond_consistency', 'diamond_schedule_policy', 'partition_by', 'append_only',
             'max_differential_joins', 'max_delta_fraction', 'temporal', 'pooler_compatibility_mode',
             'storage_backend', 'topk']) }}
{% endmacro %}
