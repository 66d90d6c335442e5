{#
  pgtrickle_stream_table_config(node)
  Read, normalise and validate a stream_table model's config. Runs before anything touches the
  database, so a bad value fails the model with a message and changes nothing.
  Args: node - the model node (`model` in the materialization, a `graph.nodes` value elsewhere).
  Returns: the desired stream table, in the shape pgtrickle_get_stream_table_info returns:
    relation, schema, name, qualified_name, schedule (none = CALCULATED), refresh_mode
    (DIFFERENTIAL, FULL, AUTO, IMMEDIATE), status (ACTIVE, SUSPENDED), cdc_mode, partition_by,
    append_only, fuse, fuse_ceiling, fuse_sensitivity, diamond_consistency,
    diamond_schedule_policy, max_differential_joins, max_delta_fraction;
    plus model_name, initialize, on_configuration_change, and the create-time options the
    upstream dbt-pgtrickle package also takes: temporal, pooler_compatibility_mode,
    storage_backend, output_distribution_column (see docs/dbt-upstream-compat.md).
    Enum words are normalised to the case pg_trickle stores; keys left unset get pg_trickle's
    defaults, except cdc_mode, fuse_ceiling and fuse_sensitivity, which stay none (= not
    managed by dbt).
#}
{% macro pgtrickle_stream_table_config(node) %}
  {%- set cfg = node.config -%}
  {%- set m = node.name -%}
  {%- set re = modules.re -%}
  {%- set ident = '^[a-z_][a-z0-9_]*$' -%}

  {#- names: only lowercase unquoted identifiers, a safe subset of what pg_trickle accepts (docs/pg_trickle-contract.md, Names) -#}
  {%- set name = cfg.get('stream_table_name') or node.alias or node.name -%}
  {%- set schema = cfg.get('stream_table_schema') or node.schema -%}
  {#- the error names the key the name came from: the user may never have set stream_table_* -#}
  {%- set name_key = 'stream_table_name' if cfg.get('stream_table_name') else ('alias' if node.alias and node.alias != node.name else 'name') -%}
  {%- set schema_key = 'stream_table_schema' if cfg.get('stream_table_schema') else 'schema' -%}
  {%- for key, value in [(name_key, name), (schema_key, schema)] -%}
    {%- if value is not string or not re.match(ident, value) or value | length > 63 -%}
      {%- do dbt_pg_trickle.pgtrickle_config_error(m, key, value,
          "a lowercase unquoted identifier matching [a-z_][a-z0-9_]* of at most 63 bytes (pg_trickle cannot create other names); set `alias` / `schema` (or `stream_table_name` / `stream_table_schema`) accordingly") -%}
    {%- endif -%}
  {%- endfor -%}

  {#- refresh_mode -#}
  {%- set mode = (cfg.get('refresh_mode') or 'DIFFERENTIAL') | string | trim | upper -%}
  {%- if mode not in ['DIFFERENTIAL', 'FULL', 'AUTO', 'IMMEDIATE'] -%}
    {%- do dbt_pg_trickle.pgtrickle_config_error(m, 'refresh_mode', cfg.get('refresh_mode'), "'DIFFERENTIAL' (default), 'FULL', 'AUTO', 'IMMEDIATE'") -%}
  {%- endif -%}

  {#- schedule: duration, cron, or none / 'calculated' for CALCULATED (pg_trickle src/api/helpers.rs, parse_schedule) -#}
  {%- set schedule_accepted = "a duration such as '30s', '5m', '1h30m' (units s m h d w, at least 1s), a cron expression such as '*/5 * * * *' or '@hourly', or none / 'calculated' for CALCULATED" -%}
  {%- set raw_schedule = cfg.get('schedule', '1m') if 'schedule' in cfg else '1m' -%}
  {%- set schedule = none -%}
  {%- if raw_schedule is not none -%}
    {%- set text = raw_schedule | string | trim -%}
    {%- if raw_schedule is boolean or text == '' -%}
      {%- do dbt_pg_trickle.pgtrickle_config_error(m, 'schedule', raw_schedule, schedule_accepted) -%}
    {%- elif text | lower in ['calculated', 'none', 'null'] -%}
      {#- CALCULATED: schedule stays none -#}
    {%- elif re.match('^([0-9]+[smhdw])+$', text) or re.match('^[0-9]+$', text) -%}
      {%- set ns = namespace(seconds=0) -%}
      {%- if re.match('^[0-9]+$', text) -%}
        {%- set ns.seconds = text | int -%}
      {%- else -%}
        {%- set unit_seconds = {'s': 1, 'm': 60, 'h': 3600, 'd': 86400, 'w': 604800} -%}
        {%- for part in re.findall('([0-9]+)([smhdw])', text) -%}
          {%- set ns.seconds = ns.seconds + (part[0] | int) * unit_seconds[part[1]] -%}
        {%- endfor -%}
      {%- endif -%}
      {%- if ns.seconds < 1 -%}
        {%- do dbt_pg_trickle.pgtrickle_config_error(m, 'schedule', raw_schedule, schedule_accepted) -%}
      {%- endif -%}
      {%- set schedule = text -%}
    {%- elif text.startswith('@') -%}
      {%- if text | lower not in ['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@hourly'] -%}
        {%- do dbt_pg_trickle.pgtrickle_config_error(m, 'schedule', raw_schedule, schedule_accepted) -%}
      {%- endif -%}
      {%- set schedule = text -%}
    {%- elif ' ' in text and re.match('^[0-9A-Za-z*/,?#\\- ]+$', text) and (text.split() | length) in [5, 6] -%}
      {%- set schedule = text -%}
    {%- else -%}
      {%- do dbt_pg_trickle.pgtrickle_config_error(m, 'schedule', raw_schedule, schedule_accepted) -%}
    {%- endif -%}
  {%- endif -%}
  {%- if mode == 'IMMEDIATE' -%}
    {#- IMMEDIATE tables have no schedule; pg_trickle stores NULL whatever was given -#}
    {%- set schedule = none -%}
  {%- endif -%}

  {#- booleans -#}
  {%- set bools = {} -%}
  {%- for key, default in [('initialize', true), ('append_only', false), ('temporal', false), ('pooler_compatibility_mode', false)] -%}
    {%- set value = cfg.get(key) -%}
    {%- if value is none -%}
      {%- do bools.update({key: default}) -%}
    {%- elif value is boolean -%}
      {%- do bools.update({key: value}) -%}
    {%- elif value is string and value | trim | lower in ['true', 'false'] -%}
      {%- do bools.update({key: value | trim | lower == 'true'}) -%}
    {%- else -%}
      {%- do dbt_pg_trickle.pgtrickle_config_error(m, key, value, 'true or false') -%}
    {%- endif -%}
  {%- endfor -%}

  {#- status: pg_trickle has no PAUSED; accept it as the alias users know -#}
  {%- set status = (cfg.get('status') or 'ACTIVE') | string | trim | upper -%}
  {%- if status == 'PAUSED' -%}
    {%- do log("pg-trickle: " ~ m ~ ": status 'PAUSED' is read as 'SUSPENDED' (pg_trickle has no PAUSED status)", info=true) -%}
    {%- set status = 'SUSPENDED' -%}
  {%- endif -%}
  {%- if status not in ['ACTIVE', 'SUSPENDED'] -%}
    {%- do dbt_pg_trickle.pgtrickle_config_error(m, 'status', cfg.get('status'), "'ACTIVE' (default) or 'SUSPENDED' ('PAUSED' is an alias of 'SUSPENDED')") -%}
  {%- endif -%}

  {#- lower-case enumerations -#}
  {%- set enums = {} -%}
  {%- for key, default, allowed in [
        ('cdc_mode', none, ['auto', 'trigger', 'wal']),
        ('fuse', 'off', ['off', 'on', 'auto']),
        ('diamond_consistency', 'atomic', ['atomic', 'none']),
        ('diamond_schedule_policy', 'fastest', ['fastest', 'slowest']),
        ('on_configuration_change', 'apply', ['apply', 'continue', 'fail']),
        ('storage_backend', none, ['heap', 'citus', 'pg_mooncake', 'none'])] -%}
    {%- set value = cfg.get(key) -%}
    {%- if value is none or (value is string and value | trim == '') -%}
      {%- do enums.update({key: default}) -%}
    {%- elif value is string and value | trim | lower in allowed -%}
      {%- do enums.update({key: value | trim | lower}) -%}
    {%- else -%}
      {%- do dbt_pg_trickle.pgtrickle_config_error(m, key, value, "'" ~ allowed | join("', '") ~ "'" ~ (' (default ' ~ default ~ ')' if default else ' (default: not set)')) -%}
    {%- endif -%}
  {%- endfor -%}

  {#- numbers -#}
  {%- set numbers = {} -%}
  {%- for key, minimum, accepted in [
        ('fuse_ceiling', 1, 'a positive integer'),
        ('fuse_sensitivity', 1, 'a positive integer'),
        ('max_differential_joins', 0, 'a non-negative integer (0 or unset = no limit)')] -%}
    {%- set value = cfg.get(key) -%}
    {%- if value is none -%}
      {%- do numbers.update({key: none}) -%}
    {%- elif value is boolean or value is not number or value != (value | int) or value < minimum -%}
      {%- do dbt_pg_trickle.pgtrickle_config_error(m, key, value, accepted) -%}
    {%- else -%}
      {%- do numbers.update({key: value | int}) -%}
    {%- endif -%}
  {%- endfor -%}
  {%- set fraction = cfg.get('max_delta_fraction') -%}
  {%- if fraction is not none and (fraction is boolean or fraction is not number or fraction < 0) -%}
    {%- do dbt_pg_trickle.pgtrickle_config_error(m, 'max_delta_fraction', fraction, 'a number >= 0 (0 or unset = no limit)') -%}
  {%- endif -%}
  {#- 0 means "no limit", which pg_trickle stores as NULL -#}
  {%- if numbers.max_differential_joins == 0 -%}{%- do numbers.update({'max_differential_joins': none}) -%}{%- endif -%}
  {%- set fraction = none if (fraction is none or fraction == 0) else fraction | float -%}

  {#- partition_by: [LIST:|HASH:]col[,col...][:N] (pg_trickle src/api/helpers.rs, validate_partition_key): RANGE takes one or more columns,
      LIST exactly one, HASH takes :N (2..256) and nothing else does -#}
  {%- set partition_by = cfg.get('partition_by') -%}
  {%- if partition_by is not none -%}
    {%- set parts = re.match('^\\s*(?:((?i:list|hash)):)?\\s*([A-Za-z_][A-Za-z0-9_]*(?:\\s*,\\s*[A-Za-z_][A-Za-z0-9_]*)*)(?::([0-9]+))?\\s*$', partition_by) if partition_by is string else none -%}
    {%- set kind = ((parts.group(1) or 'range') | lower) if parts else none -%}
    {%- if parts is none
          or (kind == 'list' and ',' in parts.group(2))
          or (parts.group(3) and (kind != 'hash' or (parts.group(3) | int) < 2 or (parts.group(3) | int) > 256)) -%}
      {%- do dbt_pg_trickle.pgtrickle_config_error(m, 'partition_by', partition_by, "'col[,col...]' (RANGE), 'LIST:col' (one column) or 'HASH:col[,col...][:N]' with N in 2..256 (default 4), naming output columns of the query") -%}
    {%- endif -%}
    {%- set partition_by = partition_by | trim -%}
  {%- endif -%}

  {#- output_distribution_column: a column of the query (Citus distributes the storage by it) -#}
  {%- set distribution = cfg.get('output_distribution_column') -%}
  {%- if distribution is not none and (distribution is not string or not re.match('^[A-Za-z_][A-Za-z0-9_]*$', distribution)) -%}
    {%- do dbt_pg_trickle.pgtrickle_config_error(m, 'output_distribution_column', distribution, "a column name of the query (needs Citus)") -%}
  {%- endif -%}

  {#- combinations pg_trickle rejects (pg_trickle src/api/alter.rs, create_stream_table_impl) -#}
  {%- if mode == 'IMMEDIATE' and partition_by -%}
    {%- do dbt_pg_trickle.pgtrickle_config_error(m, 'partition_by', partition_by, "no partition_by with refresh_mode 'IMMEDIATE'") -%}
  {%- endif -%}
  {%- if bools.append_only and mode in ['FULL', 'IMMEDIATE'] -%}
    {%- do dbt_pg_trickle.pgtrickle_config_error(m, 'append_only', true, "append_only only with refresh_mode 'DIFFERENTIAL' or 'AUTO' (this model uses '" ~ mode ~ "')") -%}
  {%- endif -%}
  {%- if enums.cdc_mode == 'wal' and mode == 'IMMEDIATE' -%}
    {%- do dbt_pg_trickle.pgtrickle_config_error(m, 'cdc_mode', 'wal', "'auto' or 'trigger' with refresh_mode 'IMMEDIATE'") -%}
  {%- endif -%}
  {%- if enums.diamond_schedule_policy == 'slowest' and enums.diamond_consistency != 'atomic' -%}
    {%- do dbt_pg_trickle.pgtrickle_config_error(m, 'diamond_schedule_policy', 'slowest', "'fastest' unless diamond_consistency is 'atomic'") -%}
  {%- endif -%}

  {%- set relation = api.Relation.create(database=node.database, schema=schema, identifier=name, type='table') -%}
  {{ return({
      'model_name': m,
      'relation': relation,
      'schema': schema,
      'name': name,
      'qualified_name': schema ~ '.' ~ name,
      'schedule': schedule,
      'refresh_mode': mode,
      'status': status,
      'cdc_mode': enums.cdc_mode,
      'partition_by': partition_by,
      'append_only': bools.append_only,
      'fuse': enums.fuse,
      'fuse_ceiling': numbers.fuse_ceiling,
      'fuse_sensitivity': numbers.fuse_sensitivity,
      'diamond_consistency': enums.diamond_consistency,
      'diamond_schedule_policy': enums.diamond_schedule_policy,
      'max_differential_joins': numbers.max_differential_joins,
      'max_delta_fraction': fraction,
      'initialize': bools.initialize,
      'on_configuration_change': enums.on_configuration_change,
      'temporal': bools.temporal,
      'pooler_compatibility_mode': bools.pooler_compatibility_mode,
      'storage_backend': enums.storage_backend,
      'output_distribution_column': distribution,
  }) }}
{% endmacro %}
