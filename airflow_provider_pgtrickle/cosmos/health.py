"""Gate work downstream of a Cosmos-rendered dbt project on healthy stream tables.

Cosmos renders a `materialized='stream_table'` model like a table model: its task finishes
when dbt has *created or altered* the stream table. Whether pg_trickle then keeps it fresh is
a separate question, answered by `PgTrickleHealthSensor`. `add_stream_table_sensors` walks the
graph Cosmos already built (its `dbt_graph.filtered_nodes` and `tasks_map`), so no node is
dropped or re-rendered, and wires a sensor after the stream-table tasks.

Cosmos's `node_converters` are not used on purpose: they are keyed by resource type (every
model, not just stream tables) and a converter that returns None silently drops the node.

Only plain attribute access on the rendered objects happens here; nothing from Cosmos or dbt
is imported, and nothing touches a database while the DAG is parsed.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from airflow_provider_pgtrickle.exceptions import PgTrickleValidationError

if TYPE_CHECKING:
    from airflow.sdk import BaseOperator

log = logging.getLogger(__name__)

STREAM_TABLE_MATERIALIZATION = "stream_table"
_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


class SensorLayout(str, Enum):
    """How many health sensors `add_stream_table_sensors` creates."""

    PER_STREAM_TABLE = "per_stream_table"
    """One sensor after each stream-table task: a problem points at its table."""
    ONE_FOR_ALL = "one_for_all"
    """One sensor after all stream-table tasks: fewer task instances."""


class SchemaNaming(str, Enum):
    """How the dbt project turns a model's custom `schema` config into a schema name."""

    DBT_DEFAULT = "dbt_default"
    """dbt's built-in `generate_schema_name`: `<target schema>_<custom schema>`."""
    CUSTOM_AS_IS = "custom_as_is"
    """The common override that uses the custom schema verbatim."""


SchemaResolver = Callable[[str, "str | None"], str]
"""`(target_schema, custom_schema_or_None) -> schema` for projects with their own macro."""


@dataclass(frozen=True)
class StreamTableNode:
    """A dbt model materialized as a stream table, with the name pg_trickle knows it by."""

    unique_id: str
    schema: str
    name: str

    @property
    def qualified_name(self) -> str:
        return f"{self.schema}.{self.name}"


@dataclass(frozen=True)
class StreamTableSensors:
    """What `add_stream_table_sensors` found and created."""

    stream_tables: tuple[StreamTableNode, ...]
    sensors: tuple[BaseOperator, ...]

    def sensor_for(self, qualified_name: str) -> BaseOperator:
        """The sensor that watches `schema.name` (with `ONE_FOR_ALL`, the only sensor)."""
        for node, sensor in self._pairs():
            if node.qualified_name == qualified_name:
                return sensor
        raise PgTrickleValidationError(
            f"No health sensor watches stream table `{qualified_name}`; "
            f"the rendered stream tables are: {', '.join(self.qualified_names) or 'none'}."
        )

    @property
    def qualified_names(self) -> list[str]:
        return [node.qualified_name for node in self.stream_tables]

    def _pairs(self) -> Iterable[tuple[StreamTableNode, BaseOperator]]:
        if len(self.sensors) == 1:
            return ((node, self.sensors[0]) for node in self.stream_tables)
        return zip(self.stream_tables, self.sensors, strict=True)


def _rendered_parts(rendered: Any) -> tuple[Any, dict[str, Any], Any]:
    graph = getattr(rendered, "dbt_graph", None)
    tasks_map = getattr(rendered, "tasks_map", None)
    if graph is None or tasks_map is None:
        raise PgTrickleValidationError(
            f"`{type(rendered).__name__}` is not a Cosmos-rendered DAG or task group; "
            "pass the `DbtDag` or `DbtTaskGroup` instance after it has been built."
        )
    return graph, tasks_map, graph.filtered_nodes


def _profile_target_schema(graph: Any) -> str | None:
    profile_config = getattr(graph, "profile_config", None)
    if profile_config is None:
        return None
    mapping = getattr(profile_config, "profile_mapping", None)
    if mapping is not None:
        schema = (getattr(mapping, "profile_args", None) or {}).get("schema")
        return str(schema) if schema else None
    path = getattr(profile_config, "profiles_yml_filepath", None)
    if path and Path(path).is_file():
        import yaml  # type: ignore[import-untyped]

        profiles = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        target = (
            profiles.get(profile_config.profile_name, {})
            .get("outputs", {})
            .get(profile_config.target_name, {})
        )
        schema = target.get("schema")
        # A profile that computes its schema with Jinja cannot be resolved without dbt.
        if isinstance(schema, str) and "{{" not in schema:
            return schema
    return None


def _resolve_schema(
    naming: SchemaNaming | SchemaResolver, target_schema: str, custom: str | None
) -> str:
    if callable(naming) and not isinstance(naming, SchemaNaming):
        return naming(target_schema, custom)
    if custom is None:
        return target_schema
    if naming is SchemaNaming.CUSTOM_AS_IS:
        return custom.strip()
    return f"{target_schema}_{custom.strip()}"


def _text(config: Mapping[str, Any], key: str) -> str | None:
    value = config.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return str(value).strip()


def find_stream_tables(
    rendered: Any,
    *,
    target_schema: str | None = None,
    schema_naming: SchemaNaming | SchemaResolver = SchemaNaming.DBT_DEFAULT,
) -> list[StreamTableNode]:
    """The rendered dbt models materialized as stream tables, in dependency order.

    The name is computed the way the `stream_table` materialization does:
    `stream_table_schema` or the model's schema, `stream_table_name` or its alias or name.

    :param rendered: a built Cosmos `DbtDag` or `DbtTaskGroup`.
    :param target_schema: the dbt target schema; default: the `schema` of the profile.
    :param schema_naming: how custom `schema` configs become schema names.
    :raises PgTrickleValidationError: the target schema is unknown, or a computed name is not a
        lowercase identifier (the only names pg_trickle supports).
    """
    graph, _tasks_map, nodes = _rendered_parts(rendered)
    candidates = [
        node
        for node in nodes.values()
        if str((node.config or {}).get("materialized") or "").lower()
        == STREAM_TABLE_MATERIALIZATION
    ]
    if not candidates:
        return []
    target = target_schema or _profile_target_schema(graph)
    if not target:
        raise PgTrickleValidationError(
            f"The target schema of `{getattr(rendered, 'dag_id', None) or rendered}` is unknown; "
            "pass `target_schema=` (the `schema` of your dbt profile)."
        )
    found: list[StreamTableNode] = []
    for node in _dependency_order(candidates, nodes):
        config = node.config or {}
        schema = _text(config, "stream_table_schema") or _resolve_schema(
            schema_naming, target, _text(config, "schema")
        )
        name = _text(config, "stream_table_name") or _text(config, "alias") or node.name
        for part, value in (("schema", schema), ("name", name)):
            if not _IDENTIFIER.match(value):
                raise PgTrickleValidationError(
                    f"Stream table `{schema}.{name}` of model `{node.unique_id}` has the {part} "
                    f"`{value}`; pg_trickle supports only lowercase identifiers "
                    "([a-z_][a-z0-9_]*, at most 63 bytes): rename it in the model config."
                )
        found.append(StreamTableNode(unique_id=node.unique_id, schema=schema, name=name))
    return found


def _dependency_order(candidates: list[Any], nodes: Mapping[str, Any]) -> list[Any]:
    # Cosmos keeps nodes in load order; sort parents first so sensors (and their task ids)
    # come out in the order pg_trickle refreshes the tables.
    wanted = {node.unique_id: node for node in candidates}
    ordered: list[Any] = []
    seen: set[str] = set()

    def visit(unique_id: str) -> None:
        if unique_id in seen:
            return
        seen.add(unique_id)
        node = nodes.get(unique_id)
        if node is None:
            return
        for parent in node.depends_on or []:
            visit(parent)
        if unique_id in wanted:
            ordered.append(node)

    for unique_id in sorted(wanted):
        visit(unique_id)
    return ordered


def add_stream_table_sensors(
    rendered: Any,
    *,
    layout: SensorLayout | str = SensorLayout.PER_STREAM_TABLE,
    downstream: Iterable[Any] = (),
    gate_dbt_children: bool = False,
    target_schema: str | None = None,
    schema_naming: SchemaNaming | SchemaResolver = SchemaNaming.DBT_DEFAULT,
    postgres_conn_id: str = "postgres_default",
    deferrable: bool = True,
    task_id_prefix: str = "healthy",
    **sensor_kwargs: Any,
) -> StreamTableSensors:
    """Wire `PgTrickleHealthSensor`s after the stream-table tasks Cosmos rendered.

    Call it once the `DbtDag` / `DbtTaskGroup` exists. For a task group the sensors are created
    inside it, so `group >> report` written *after* this call makes `report` wait for them.

    :param rendered: a built Cosmos `DbtDag` or `DbtTaskGroup`.
    :param layout: `per_stream_table` (one sensor after each stream-table task) or
        `one_for_all` (one sensor after all of them).
    :param downstream: tasks or task groups that must wait for the sensors (for tasks already
        wired after the group, or a `DbtDag`).
    :param gate_dbt_children: also make the dbt tasks that read a stream table wait for its
        sensor (`per_stream_table` only: a single sensor would create a cycle).
    :param target_schema: the dbt target schema; default: the profile's `schema`.
    :param schema_naming: `dbt_default`, `custom_as_is`, or a callable
        `(target_schema, custom_schema) -> schema` mirroring your `generate_schema_name`.
    :param postgres_conn_id: connection the sensors use.
    :param deferrable: sensors wait in the triggerer instead of holding a worker slot.
    :param task_id_prefix: sensor task ids are `<prefix>__<schema>__<table>` (per table) or
        `<prefix>__stream_tables` (one for all).
    :param sensor_kwargs: passed to every sensor (`max_staleness`, `fail_on_error`,
        `require_current_interval`, `poke_interval`, `timeout`, ...).
    :return: the stream tables found and the sensors created (empty when the rendered
        selection has no stream-table model).
    """
    try:
        layout = SensorLayout(layout)
    except ValueError:
        raise PgTrickleValidationError(
            f"Sensor layout `{layout}` is not supported; use one of: "
            f"{', '.join(item.value for item in SensorLayout)}."
        ) from None
    if gate_dbt_children and layout is SensorLayout.ONE_FOR_ALL:
        raise PgTrickleValidationError(
            "`gate_dbt_children=True` with layout `one_for_all` would make the sensor wait for "
            "tasks that wait for it; use layout `per_stream_table`."
        )
    downstream = list(downstream)
    _graph, tasks_map, nodes = _rendered_parts(rendered)
    stream_tables = find_stream_tables(
        rendered, target_schema=target_schema, schema_naming=schema_naming
    )
    if not stream_tables:
        log.warning(
            "pg_trickle: no stream-table model in the rendered dbt selection; no sensor added."
        )
        return StreamTableSensors(stream_tables=(), sensors=())

    from airflow_provider_pgtrickle.sensors.pgtrickle import PgTrickleHealthSensor

    placement = _placement(rendered)
    # Check every table before the first sensor exists: a failure leaves the DAG untouched.
    for table in stream_tables:
        _task_for(tasks_map, table.unique_id)
    common = {"postgres_conn_id": postgres_conn_id, "deferrable": deferrable, **sensor_kwargs}

    sensors: list[BaseOperator] = []
    if layout is SensorLayout.PER_STREAM_TABLE:
        for table in stream_tables:
            sensor = PgTrickleHealthSensor(
                task_id=f"{task_id_prefix}__{table.schema}__{table.name}",
                stream_tables=[table.qualified_name],
                **placement,
                **common,
            )
            _after(tasks_map, table.unique_id, sensor)
            sensors.append(sensor)
            if gate_dbt_children:
                for child in _children(nodes, table.unique_id):
                    if child in tasks_map:
                        sensor >> tasks_map[child]
    else:
        sensor = PgTrickleHealthSensor(
            task_id=f"{task_id_prefix}__stream_tables",
            stream_tables=[table.qualified_name for table in stream_tables],
            **placement,
            **common,
        )
        for table in stream_tables:
            _after(tasks_map, table.unique_id, sensor)
        sensors.append(sensor)

    for task in downstream:
        for each in sensors:
            each >> task
    return StreamTableSensors(stream_tables=tuple(stream_tables), sensors=tuple(sensors))


def _placement(rendered: Any) -> dict[str, Any]:
    from airflow.sdk import DAG, TaskGroup

    if isinstance(rendered, DAG):
        return {"dag": rendered}
    if isinstance(rendered, TaskGroup):
        return {"dag": rendered.dag, "task_group": rendered}
    raise PgTrickleValidationError(
        f"`{type(rendered).__name__}` is neither a DAG nor a task group; "
        "pass the `DbtDag` or `DbtTaskGroup` instance."
    )


def _task_for(tasks_map: Mapping[str, Any], unique_id: str) -> Any:
    task = tasks_map.get(unique_id)
    if task is None:
        raise PgTrickleValidationError(
            f"Cosmos rendered no task for stream-table model `{unique_id}`; "
            "check RenderConfig select/exclude and node_converters."
        )
    return task


def _after(tasks_map: Mapping[str, Any], unique_id: str, sensor: Any) -> None:
    _task_for(tasks_map, unique_id) >> sensor


def _children(nodes: Mapping[str, Any], unique_id: str) -> list[str]:
    return [
        child_id
        for child_id, node in nodes.items()
        if unique_id in (node.depends_on or []) and child_id != unique_id
    ]
