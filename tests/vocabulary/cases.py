"""One table of stream table config cases, run through the Python validation and the dbt
package's (tests/vocabulary/test_cases.py).

Each row: the config given (key -> value, as a dbt model config or operator kwargs give it;
every row also names the stream table `analytics.orders` unless it sets the name itself), the
key of the expected error (None: accepted), and the canonical values expected for some keys.
Rows marked "drift" are the disagreements between the Python and dbt copies of the rules
before the vocabulary existed (issue #13); the comment names the pg_trickle source that
decided them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

BASE = {"stream_table_name": "orders", "stream_table_schema": "analytics"}
INT4_MAX = 2**31 - 1
INT8_MAX = 2**63 - 1


@dataclass(frozen=True)
class Case:
    given: dict[str, Any]
    error: str | None = None
    expect: dict[str, Any] = field(default_factory=dict)

    @property
    def raw(self) -> dict[str, Any]:
        return {**BASE, **self.given}

    @property
    def id(self) -> str:
        return repr(self.given)[:80]


def ok(given: dict[str, Any], **expect: Any) -> Case:
    return Case(given, None, expect)


def bad(given: dict[str, Any], key: str | None = None) -> Case:
    return Case(given, key or next(iter(given)))


CASES: list[Case] = [
    # -- defaults: the one default set (schedule 1m, DIFFERENTIAL, the rest pg_trickle's own
    #    or not managed)
    ok(
        {},
        schedule="1m",
        refresh_mode="DIFFERENTIAL",
        status="ACTIVE",
        initialize=True,
        append_only=False,
        cdc_mode=None,
        partition_by=None,
        fuse="off",
        fuse_ceiling=None,
        fuse_sensitivity=None,
        diamond_consistency="atomic",
        diamond_schedule_policy="fastest",
        max_differential_joins=None,
        max_delta_fraction=None,
        pooler_compatibility_mode=False,
        on_configuration_change="apply",
        temporal=False,
        storage_backend=None,
        output_distribution_column=None,
        orchestration_mode="MANAGED",
        target_freshness=None,
    ),
    # -- orchestration_mode (pg_trickle src/api/integration.rs, normalize_mode and
    #    validate_mode_for_refresh)
    ok({"orchestration_mode": "external"}, orchestration_mode="EXTERNAL"),
    ok({"orchestration_mode": " Managed "}, orchestration_mode="MANAGED"),
    ok({"orchestration_mode": "EXTERNAL", "refresh_mode": "FULL"}, orchestration_mode="EXTERNAL"),
    bad({"orchestration_mode": "sometimes"}),
    bad({"orchestration_mode": True}),
    bad({"orchestration_mode": "EXTERNAL", "refresh_mode": "IMMEDIATE"}, "orchestration_mode"),
    # -- target_freshness (pg_trickle 0.86.0; a model's schedule follows from it)
    ok({"target_freshness": " Manual "}, target_freshness="manual", schedule="calculated"),
    ok({"target_freshness": "5m"}, target_freshness="5m", schedule="5m"),
    ok({"target_freshness": "90"}, target_freshness="90", schedule="90"),
    ok({"target_freshness": "manual", "schedule": None}, schedule="calculated"),
    ok({"target_freshness": "manual", "schedule": "Calculated"}, schedule="calculated"),
    ok(
        {"target_freshness": "on_commit", "refresh_mode": "IMMEDIATE"},
        target_freshness="on_commit",
        schedule="calculated",
    ),
    bad({"target_freshness": "soon"}),
    bad({"target_freshness": "*/5 * * * *"}),
    bad({"target_freshness": "calculated"}),
    bad({"target_freshness": 300}),
    bad({"target_freshness": "on_commit"}),  # with the default DIFFERENTIAL
    bad({"target_freshness": "manual", "schedule": "5m"}, "target_freshness"),
    # -- schedule: durations (pg_trickle src/api/helpers.rs, parse_duration)
    ok({"schedule": "1m"}, schedule="1m"),
    ok({"schedule": "30s"}, schedule="30s"),
    ok({"schedule": " 5m "}, schedule="5m"),
    ok({"schedule": "1h30m"}, schedule="1h30m"),
    ok({"schedule": "2d"}, schedule="2d"),
    ok({"schedule": "1w"}, schedule="1w"),
    ok({"schedule": "1w2d3h4m5s"}, schedule="1w2d3h4m5s"),
    ok({"schedule": "1m1m1m"}, schedule="1m1m1m"),
    ok({"schedule": "1s"}, schedule="1s"),
    ok({"schedule": "60"}, schedule="60"),
    ok({"schedule": "+60"}, schedule="+60"),  # Rust's i64 parse takes a sign
    ok({"schedule": 300}, schedule="300"),  # YAML `schedule: 300`: bare seconds
    ok({"schedule": f"{INT8_MAX}s"}, schedule=f"{INT8_MAX}s"),
    ok({"schedule": str(INT8_MAX)}, schedule=str(INT8_MAX)),
    bad({"schedule": ""}),
    bad({"schedule": "   "}),
    bad({"schedule": "5x"}),
    bad({"schedule": "-1m"}),
    bad({"schedule": "-5"}),
    bad({"schedule": "m"}),
    bad({"schedule": "1h30"}),
    bad({"schedule": "0s"}),  # pg_trickle.min_schedule_seconds: 1
    bad({"schedule": "0"}),
    bad({"schedule": "5M"}),  # units are lower case
    bad({"schedule": "1.5m"}),
    bad({"schedule": "1h 30m"}),  # a space makes it cron, with 2 fields
    bad({"schedule": f"{INT8_MAX + 1}"}),
    bad({"schedule": "99999999999999999999w"}),
    bad({"schedule": "\u00b2"}),
    bad({"schedule": "\u0661\u0662\u0663"}),
    bad({"schedule": "5\u00b2m"}),
    bad({"schedule": True}),
    bad({"schedule": 5.0}),
    bad({"schedule": ["1m"]}),
    # -- schedule: CALCULATED. drift: 'none' / 'null' strings were CALCULATED in dbt; pg_trickle
    #    refuses them (src/api/alter.rs, create_stream_table_impl -> parse_schedule), so do we.
    ok({"schedule": "calculated"}, schedule="calculated"),
    ok({"schedule": "CALCULATED"}, schedule="calculated"),
    ok({"schedule": " Calculated "}, schedule="calculated"),
    ok({"schedule": None}, schedule="calculated"),
    bad({"schedule": "none"}),
    bad({"schedule": "null"}),
    bad({"schedule": "NULL"}),
    # -- schedule: cron (src/api/helpers.rs, validate_cron; croner 3 parses it)
    ok({"schedule": "@hourly"}, schedule="@hourly"),
    # drift: '@Hourly' was refused by Python; croner compares aliases case-insensitively
    ok({"schedule": "@Hourly"}, schedule="@hourly"),
    ok({"schedule": "@DAILY"}, schedule="@daily"),
    ok({"schedule": "@weekly"}, schedule="@weekly"),
    ok({"schedule": "@monthly"}, schedule="@monthly"),
    ok({"schedule": "@yearly"}, schedule="@yearly"),
    ok({"schedule": "@annually"}, schedule="@annually"),
    ok({"schedule": " @hourly "}, schedule="@hourly"),
    ok({"schedule": "*/5 * * * *"}, schedule="*/5 * * * *"),
    ok({"schedule": "0 */5 * * * *"}, schedule="0 */5 * * * *"),
    ok({"schedule": "*/5  *  * * *"}, schedule="*/5 * * * *"),
    ok({"schedule": "0 6 * * 1-5"}, schedule="0 6 * * 1-5"),
    ok({"schedule": "0 9 * * MON-FRI"}, schedule="0 9 * * MON-FRI"),
    ok({"schedule": "0 0 1,15 * *"}, schedule="0 0 1,15 * *"),
    ok({"schedule": "0 0 L * ?"}, schedule="0 0 L * ?"),
    bad({"schedule": "@every"}),
    bad({"schedule": "@hourly2"}),
    bad({"schedule": "@"}),
    bad({"schedule": "* * *"}),
    bad({"schedule": "* * * *"}),
    bad({"schedule": "* * * * * * *"}),
    bad({"schedule": "*/5\t*\t*\t*\t*"}),  # no space: read as a duration by pg_trickle
    bad({"schedule": "0 0 * * ;"}),
    # numbers out of a field's range (croner refuses them)
    bad({"schedule": "60 * * * *"}),
    bad({"schedule": "0 25 * * *"}),
    bad({"schedule": "99 99 99 99 99"}),
    bad({"schedule": "0 0 32 * *"}),
    bad({"schedule": "0 0 * 13 *"}),
    bad({"schedule": "0 0 * * 8"}),
    bad({"schedule": "60 0 * * * *"}),
    bad({"schedule": "0 0 0,15,40 * *"}),
    ok({"schedule": "59 23 31 12 7"}, schedule="59 23 31 12 7"),
    ok({"schedule": "0 0 * * 5#2"}, schedule="0 0 * * 5#2"),
    ok({"schedule": "*/45 */90 * * *"}, schedule="*/45 */90 * * *"),
    ok({"schedule": "59 59 23 * * *"}, schedule="59 59 23 * * *"),
    # -- refresh_mode (src/dag.rs, RefreshMode::from_str)
    ok({"refresh_mode": "DIFFERENTIAL"}, refresh_mode="DIFFERENTIAL"),
    ok({"refresh_mode": "differential"}, refresh_mode="DIFFERENTIAL"),
    ok({"refresh_mode": " Full "}, refresh_mode="FULL"),
    ok({"refresh_mode": "auto"}, refresh_mode="AUTO"),
    ok({"refresh_mode": "IMMEDIATE"}, refresh_mode="IMMEDIATE", schedule="calculated"),
    # drift: INCREMENTAL was refused by dbt; pg_trickle reads it as DIFFERENTIAL
    ok({"refresh_mode": "INCREMENTAL"}, refresh_mode="DIFFERENTIAL"),
    ok({"refresh_mode": "incremental"}, refresh_mode="DIFFERENTIAL"),
    ok({"refresh_mode": None}, refresh_mode="DIFFERENTIAL"),
    ok({"refresh_mode": ""}, refresh_mode="DIFFERENTIAL"),
    bad({"refresh_mode": "SOMETIMES"}),
    bad({"refresh_mode": "DIFF"}),
    bad({"refresh_mode": 1}),
    bad({"refresh_mode": True}),
    # -- status (a model sets ACTIVE or SUSPENDED; PAUSED is our alias of SUSPENDED)
    ok({"status": "ACTIVE"}, status="ACTIVE"),
    ok({"status": "suspended"}, status="SUSPENDED"),
    ok({"status": "PAUSED"}, status="SUSPENDED"),
    ok({"status": " paused "}, status="SUSPENDED"),
    ok({"status": None}, status="ACTIVE"),
    bad({"status": "ERROR"}),
    bad({"status": "INITIALIZING"}),
    bad({"status": "RUNNING"}),
    bad({"status": 1}),
    # -- booleans
    ok({"initialize": True}, initialize=True),
    ok({"initialize": False}, initialize=False),
    ok({"initialize": "true"}, initialize=True),
    ok({"initialize": " FALSE "}, initialize=False),
    ok({"initialize": None}, initialize=True),
    bad({"initialize": "yes"}),
    bad({"initialize": 1}),
    bad({"initialize": 0}),
    ok({"append_only": True}, append_only=True),
    ok({"append_only": "True"}, append_only=True),
    bad({"append_only": "on"}),
    ok({"temporal": True}, temporal=True),
    bad({"temporal": "y"}),
    ok({"pooler_compatibility_mode": True}, pooler_compatibility_mode=True),
    bad({"pooler_compatibility_mode": 1.0}),
    # -- words (src/api/mod.rs, normalize_requested_cdc_mode; src/dag.rs; src/api/alter.rs)
    ok({"cdc_mode": "auto"}, cdc_mode="auto"),
    ok({"cdc_mode": "TRIGGER"}, cdc_mode="trigger"),
    ok({"cdc_mode": " wal "}, cdc_mode="wal"),
    ok({"cdc_mode": ""}, cdc_mode=None),
    bad({"cdc_mode": "logical"}),
    bad({"cdc_mode": 1}),
    ok({"fuse": "ON"}, fuse="on"),
    ok({"fuse": "auto"}, fuse="auto"),
    bad({"fuse": "maybe"}),
    ok({"diamond_consistency": "NONE"}, diamond_consistency="none"),
    ok({"diamond_consistency": "atomic"}, diamond_consistency="atomic"),
    bad({"diamond_consistency": "eventual"}),
    ok({"diamond_schedule_policy": "Slowest"}, diamond_schedule_policy="slowest"),
    bad({"diamond_schedule_policy": "sometimes"}),
    ok({"on_configuration_change": "continue"}, on_configuration_change="continue"),
    ok({"on_configuration_change": "FAIL"}, on_configuration_change="fail"),
    bad({"on_configuration_change": "ignore"}),
    ok({"storage_backend": "heap"}, storage_backend="heap"),
    ok({"storage_backend": "PG_MOONCAKE"}, storage_backend="pg_mooncake"),
    ok({"storage_backend": "none"}, storage_backend="none"),
    bad({"storage_backend": "columnar"}),
    # -- numbers
    ok({"fuse_ceiling": 1}, fuse_ceiling=1),
    ok({"fuse_ceiling": INT8_MAX}, fuse_ceiling=INT8_MAX),
    bad({"fuse_ceiling": 0}),
    bad({"fuse_ceiling": -1}),
    bad({"fuse_ceiling": INT8_MAX + 1}),
    bad({"fuse_ceiling": 2.0}),
    bad({"fuse_ceiling": "5"}),
    bad({"fuse_ceiling": True}),
    ok({"fuse_sensitivity": 3}, fuse_sensitivity=3),
    ok({"fuse_sensitivity": INT4_MAX}, fuse_sensitivity=INT4_MAX),
    bad({"fuse_sensitivity": INT4_MAX + 1}),
    bad({"fuse_sensitivity": 1.5}),
    bad({"fuse_sensitivity": 0}),
    ok({"max_differential_joins": 0}, max_differential_joins=0),
    ok({"max_differential_joins": 5}, max_differential_joins=5),
    bad({"max_differential_joins": -2}),
    bad({"max_differential_joins": INT4_MAX + 1}),
    ok({"max_delta_fraction": 0}, max_delta_fraction=0),
    ok({"max_delta_fraction": 0.5}, max_delta_fraction=0.5),
    ok({"max_delta_fraction": 2.5}, max_delta_fraction=2.5),
    ok({"max_delta_fraction": 1}, max_delta_fraction=1),
    bad({"max_delta_fraction": -1}),
    bad({"max_delta_fraction": "0.5"}),
    bad({"max_delta_fraction": True}),
    # -- partition_by (src/api/helpers.rs, validate_partition_key)
    ok({"partition_by": "order_id"}, partition_by="order_id"),
    ok({"partition_by": " order_id "}, partition_by="order_id"),
    ok({"partition_by": "order_day, customer_id"}, partition_by="order_day, customer_id"),
    ok({"partition_by": "LIST:region"}, partition_by="LIST:region"),
    ok({"partition_by": "list:region"}, partition_by="list:region"),
    ok({"partition_by": "HASH:order_id"}, partition_by="HASH:order_id"),
    ok({"partition_by": "HASH:order_id:2"}, partition_by="HASH:order_id:2"),
    ok({"partition_by": "hash:order_id:256"}, partition_by="hash:order_id:256"),
    bad({"partition_by": "LIST:a,b"}),
    bad({"partition_by": "HASH:a,b"}),
    bad({"partition_by": "order_id:4"}),
    bad({"partition_by": "HASH:order_id:300"}),
    bad({"partition_by": "HASH:order_id:1"}),
    bad({"partition_by": ""}),
    bad({"partition_by": "1col"}),
    bad({"partition_by": 5}),
    # -- output_distribution_column
    ok({"output_distribution_column": "order_id"}, output_distribution_column="order_id"),
    ok({"output_distribution_column": "Order_ID"}, output_distribution_column="Order_ID"),
    bad({"output_distribution_column": "1x"}),
    bad({"output_distribution_column": "a b"}),
    bad({"output_distribution_column": 5}),
    # -- identifiers: [a-z_][a-z0-9_]*, at most 63 bytes (ASCII only, so also 63 characters)
    ok({"stream_table_name": "_x1"}, stream_table_name="_x1"),
    ok({"stream_table_name": "a" * 63}, stream_table_name="a" * 63),
    bad({"stream_table_name": "a" * 64}),
    bad({"stream_table_name": "Orders"}),
    bad({"stream_table_name": "order totals"}),
    bad({"stream_table_name": "1orders"}),
    bad({"stream_table_name": ""}),
    bad({"stream_table_name": None}),
    # drift: dbt counted characters with `| length`; a non-ASCII name is refused for the
    # pattern on both sides, so 63 characters and 63 bytes cannot disagree
    bad({"stream_table_name": "ordérs"}),
    bad({"stream_table_name": "é" * 32}),
    bad({"stream_table_name": "orders\n"}),
    Case({"stream_table_name": "Orders", "_name_key": "alias"}, "alias"),
    ok({"stream_table_schema": "public"}, stream_table_schema="public"),
    ok({"stream_table_schema": "pgx"}, stream_table_schema="pgx"),
    bad({"stream_table_schema": "Analytics"}),
    bad({"stream_table_schema": "s" * 64}),
    # drift: dbt let a stream table into a system schema; Python refused
    bad({"stream_table_schema": "pg_catalog"}),
    bad({"stream_table_schema": "pg_temp"}),
    bad({"stream_table_schema": "pgtrickle"}),
    bad({"stream_table_schema": "pgtrickle_changes"}),
    bad({"stream_table_schema": "information_schema"}),
    Case({"stream_table_schema": "Analytics", "_schema_key": "schema"}, "schema"),
    # -- combinations. drift: all four were sent to the server by the hook and operators.
    #    src/api/alter.rs, create_stream_table_impl: partition_by with IMMEDIATE
    bad({"refresh_mode": "IMMEDIATE", "partition_by": "order_id"}, "partition_by"),
    bad({"refresh_mode": "immediate", "partition_by": "HASH:order_id:4"}, "partition_by"),
    ok({"refresh_mode": "DIFFERENTIAL", "partition_by": "order_id"}, partition_by="order_id"),
    ok({"refresh_mode": "INCREMENTAL", "partition_by": "order_id"}, refresh_mode="DIFFERENTIAL"),
    ok({"refresh_mode": "FULL", "partition_by": "order_id"}, refresh_mode="FULL"),
    #    append_only with FULL or IMMEDIATE (create_stream_table_impl / alter_stream_table_impl)
    bad({"refresh_mode": "FULL", "append_only": True}, "append_only"),
    bad({"refresh_mode": "IMMEDIATE", "append_only": "true"}, "append_only"),
    ok({"refresh_mode": "DIFFERENTIAL", "append_only": True}, append_only=True),
    ok({"refresh_mode": "AUTO", "append_only": True}, append_only=True),
    ok({"refresh_mode": "FULL", "append_only": False}, append_only=False),
    #    cdc_mode 'wal' with IMMEDIATE (src/api/mod.rs, enforce_cdc_refresh_mode_interaction)
    bad({"refresh_mode": "IMMEDIATE", "cdc_mode": "wal"}, "cdc_mode"),
    bad({"refresh_mode": "IMMEDIATE", "cdc_mode": "WAL"}, "cdc_mode"),
    ok({"refresh_mode": "IMMEDIATE", "cdc_mode": "trigger"}, cdc_mode="trigger"),
    ok({"refresh_mode": "DIFFERENTIAL", "cdc_mode": "wal"}, cdc_mode="wal"),
    #    'slowest' without atomic diamond consistency (create_stream_table_impl)
    bad(
        {"diamond_consistency": "none", "diamond_schedule_policy": "slowest"},
        "diamond_schedule_policy",
    ),
    ok(
        {"diamond_consistency": "atomic", "diamond_schedule_policy": "slowest"},
        diamond_schedule_policy="slowest",
    ),
    ok({"diamond_schedule_policy": "slowest"}, diamond_consistency="atomic"),
    ok(
        {"diamond_consistency": "none", "diamond_schedule_policy": "fastest"},
        diamond_schedule_policy="fastest",
    ),
    #    IMMEDIATE has no schedule: a valid one is replaced, an invalid one still refused
    ok({"refresh_mode": "IMMEDIATE", "schedule": "5m"}, schedule="calculated"),
    ok({"refresh_mode": "IMMEDIATE", "schedule": "@daily"}, schedule="calculated"),
    bad({"refresh_mode": "IMMEDIATE", "schedule": "5x"}, "schedule"),
    # -- the first problem is reported, in the vocabulary's order
    bad({"refresh_mode": "SOMETIMES", "schedule": "5x"}, "schedule"),
    bad({"stream_table_name": "Orders", "schedule": "5x"}, "stream_table_name"),
    bad({"fuse": "maybe", "refresh_mode": "FULL", "append_only": True}, "fuse"),
]
