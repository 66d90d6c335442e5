{#
  pgtrickle_stream_table_changes(desired, actual)
  Compare the desired stream table (pgtrickle_stream_table_config plus `query`) with the
  existing one (pgtrickle_get_stream_table_info), following pg_trickle's storage quirks:
  AUTO matches a stored DIFFERENTIAL or FULL; a none schedule is CALCULATED (stored NULL);
  IMMEDIATE has no schedule; queries differing only in whitespace are equal (TopK queries
  compared part by part, see pgtrickle_query_matches); INITIALIZING
  counts as ACTIVE; a status pg_trickle set (pgtrickle_held_reason: ERROR, a blown fuse, the
  error limit) is not compared, so a run never overrides it (pgtrickle_resume does); keys dbt
  does not manage (cdc_mode, fuse_ceiling, fuse_sensitivity left unset) are not compared, nor
  an append-only mark pg_trickle set by itself (append_only not asked for), nor the settings a
  description read through pg_trickle's read functions could not see (actual.unknown,
  pgtrickle_unread_settings): unknown is not different.
  Returns: dict(query_changed: bool, settings: {alter argument: value to send} for every
    setting that differs, in alter's argument order, labels: names of what changed,
    held: pgtrickle_held_reason(actual), orchestration_mode: the mode to set through
    set_orchestration_mode, or none when it does not change).
#}
{% macro pgtrickle_stream_table_changes(desired, actual) %}
  {%- set settings = {} -%}
  {%- set unknown = actual.unknown or [] -%}
  {%- set query_changed = not dbt_pg_trickle.pgtrickle_query_matches(desired.query, actual) -%}
  {%- set mode = dbt_pg_trickle.pgtrickle_resolve_refresh_mode(desired.refresh_mode, actual.refresh_mode) -%}

  {%- if mode != 'IMMEDIATE' -%}
    {%- set have_schedule = none if actual.refresh_mode == 'IMMEDIATE' else actual.schedule -%}
    {%- if (desired.schedule or none) != (have_schedule or none) -%}
      {%- do settings.update({'schedule': desired.schedule or 'calculated'}) -%}
    {%- elif actual.refresh_mode == 'IMMEDIATE' and desired.schedule is none -%}
      {#- leaving IMMEDIATE without a schedule would restore '1m' (pg_trickle src/api/alter.rs, alter_stream_table_impl) -#}
      {%- do settings.update({'schedule': 'calculated'}) -%}
    {%- endif -%}
  {%- endif -%}
  {%- if mode != actual.refresh_mode -%}
    {%- do settings.update({'refresh_mode': mode}) -%}
  {%- endif -%}
  {%- set held = dbt_pg_trickle.pgtrickle_held_reason(actual) -%}
  {%- set have_status = 'ACTIVE' if actual.status == 'INITIALIZING' else actual.status -%}
  {%- if held is none and desired.status != have_status -%}
    {%- do settings.update({'status': desired.status}) -%}
  {%- endif -%}
  {%- if 'diamond_consistency' not in unknown and desired.diamond_consistency != actual.diamond_consistency -%}
    {%- do settings.update({'diamond_consistency': desired.diamond_consistency}) -%}
  {%- endif -%}
  {%- if 'diamond_schedule_policy' not in unknown and desired.diamond_schedule_policy != actual.diamond_schedule_policy -%}
    {%- do settings.update({'diamond_schedule_policy': desired.diamond_schedule_policy}) -%}
  {%- endif -%}
  {%- if desired.cdc_mode is not none and desired.cdc_mode != actual.cdc_mode -%}
    {%- do settings.update({'cdc_mode': desired.cdc_mode}) -%}
  {%- endif -%}
  {#- pg_trickle marks a DIFFERENTIAL table append-only by itself after a refresh that saw only
      INSERTs and clears the mark at the first UPDATE or DELETE (src/refresh/merge/mod.rs,
      execute_differential_refresh): a mark the model did not ask for is not a change. -#}
  {%- if 'append_only' not in unknown and desired.append_only and not actual.append_only -%}
    {%- do settings.update({'append_only': desired.append_only}) -%}
  {%- endif -%}
  {%- if desired.fuse != actual.fuse -%}
    {%- do settings.update({'fuse': desired.fuse}) -%}
  {%- endif -%}
  {%- if desired.fuse_ceiling is not none and desired.fuse_ceiling != (actual.fuse_ceiling | int if actual.fuse_ceiling is not none else none) -%}
    {%- do settings.update({'fuse_ceiling': desired.fuse_ceiling}) -%}
  {%- endif -%}
  {%- if desired.fuse_sensitivity is not none and desired.fuse_sensitivity != (actual.fuse_sensitivity | int if actual.fuse_sensitivity is not none else none) -%}
    {%- do settings.update({'fuse_sensitivity': desired.fuse_sensitivity}) -%}
  {%- endif -%}
  {%- if 'partition_by' not in unknown and (desired.partition_by or '') != (actual.partition_by or '') -%}
    {#- '' removes partitioning (pg_trickle src/api/alter.rs, alter_stream_table_impl) -#}
    {%- do settings.update({'partition_by': desired.partition_by or ''}) -%}
  {%- endif -%}
  {#- 0 stores NULL = no limit (pg_trickle src/api/alter.rs, alter_stream_table_impl) -#}
  {%- if 'max_differential_joins' not in unknown and (desired.max_differential_joins or none) != ((actual.max_differential_joins | int) if actual.max_differential_joins is not none else none) -%}
    {%- do settings.update({'max_differential_joins': desired.max_differential_joins or 0}) -%}
  {%- endif -%}
  {%- if 'max_delta_fraction' not in unknown and (desired.max_delta_fraction or none) != ((actual.max_delta_fraction | float) if actual.max_delta_fraction is not none else none) -%}
    {%- do settings.update({'max_delta_fraction': desired.max_delta_fraction or 0}) -%}
  {%- endif -%}

  {#- target_freshness (pg_trickle 0.86.0): the schedule follows from it (the interval, else
      calculated), and alter takes one of the two: a changed target goes alone. A model without
      one, on a table with one, sends its schedule, which clears the target. -#}
  {%- set target = desired.get('target_freshness') -%}
  {%- if target is not none -%}
    {%- set want_mode = {'manual': 'MANUAL', 'on_commit': 'ON_COMMIT'}.get(target, 'INTERVAL') -%}
    {#- only an interval target is a schedule: 'manual' and 'on_commit' leave the stored one -#}
    {%- set interval_moved = want_mode == 'INTERVAL' and 'schedule' in settings -%}
    {%- do settings.pop('schedule', none) -%}
    {%- if want_mode != actual.get('target_freshness_mode') or interval_moved -%}
      {%- do settings.update({'target_freshness': target}) -%}
    {%- endif -%}
  {%- elif actual.get('target_freshness_mode') is not none and 'schedule' not in settings and mode != 'IMMEDIATE' -%}
    {%- do settings.update({'schedule': desired.schedule or 'calculated'}) -%}
  {%- endif -%}

  {#- who refreshes the table: not an alter argument, set_orchestration_mode changes it
      (pg_trickle 0.93.0; before it every table is MANAGED) -#}
  {%- set orchestration = none -%}
  {%- if (desired.get('orchestration_mode') or 'MANAGED') != (actual.get('orchestration_mode') or 'MANAGED') -%}
    {%- set orchestration = desired.get('orchestration_mode') or 'MANAGED' -%}
  {%- endif -%}

  {%- set labels = (['query'] if query_changed else []) + (settings.keys() | list) + (['orchestration_mode'] if orchestration else []) -%}
  {{ return({'query_changed': query_changed, 'settings': settings, 'labels': labels, 'held': held, 'orchestration_mode': orchestration}) }}
{% endmacro %}
