"""Where a stream-table watcher keeps the last change it announced, across triggerer restarts.

A watcher that forgot what it announced would, after a restart or a failover to another
triggerer, either re-announce the current data (a duplicate asset event) or take the current
data as its starting point (losing a refresh made while no triggerer ran it). It therefore
records the ``data_timestamp`` of each announcement (and its first observation), and compares
the server's state with it when it starts again.

* Airflow 3.3+: the asset state store (AIP-103), which the triggerer hands to every event
  trigger that watches assets (`BaseEventTrigger.asset_state_store`), under the key `KEY` of
  each watched asset. It lives with the asset: deleting the asset's state resets the watcher.
* Airflow 3.1 and 3.2 have no asset state store: an Airflow Variable per watcher, named by
  `variable_key` (the connection id and the stream table), read and written through the Task
  SDK as the triggerer allows. Deleting the Variable resets the watcher.
* Neither reachable (a trigger run outside a triggerer, or the Airflow API failing): the
  watcher keeps the value in memory only, as before, and logs why once.

The value is JSON: ``{"stream_table": "<schema>.<name>", "data_timestamp": "<ISO 8601>"}``.
A value naming another stream table is ignored.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from airflow_provider_pgtrickle._compat import has_airflow

KEY = "pgtrickle_announced"
"""Key of the watcher's record in each watched asset's state store (Airflow 3.3+)."""

#: Airflow gives event triggers the asset state store from 3.3 on.
ASSET_STATE_STORE = (3, 3)

_VARIABLE_PREFIX = "pgtrickle_announced__"

log = logging.getLogger(__name__)


def variable_key(postgres_conn_id: str, stream_table: str) -> str:
    """The Airflow Variable a watcher uses on Airflow 3.1/3.2 (Variable keys hold 250 chars)."""
    return f"{_VARIABLE_PREFIX}{postgres_conn_id}__{stream_table}"[:250]


@dataclass(frozen=True)
class Announced:
    """What a watcher last announced (or first observed) for its stream table."""

    stream_table: str
    data_timestamp: datetime

    def to_json(self) -> dict[str, str]:
        return {
            "stream_table": self.stream_table,
            "data_timestamp": self.data_timestamp.isoformat(),
        }

    @classmethod
    def from_json(cls, value: Any, stream_table: str) -> Announced | None:
        """The record in ``value`` if it is one for ``stream_table``, else None."""
        if not isinstance(value, dict) or value.get("stream_table") != stream_table:
            return None
        stamp = value.get("data_timestamp")
        if not isinstance(stamp, str):
            return None
        try:
            return cls(stream_table, datetime.fromisoformat(stamp))
        except ValueError:
            return None


class AnnouncedStore(Protocol):
    """Reads and writes a watcher's record; both may raise (the caller degrades to memory)."""

    description: str

    async def load(self) -> list[Any]:
        """The stored values, one per place the record is kept (None where there is none)."""
        ...

    async def save(self, value: dict[str, str]) -> None: ...


class _AssetStateStore:
    """Airflow 3.3's asset state store, for every asset the trigger watches."""

    def __init__(self, accessors: Any) -> None:
        self._accessors = accessors
        self.description = "the asset state store"

    def _each(self) -> list[Any]:
        # One accessor per watched asset. The public `aget`/`aset` shortcuts work only when the
        # trigger watches exactly one asset (the usual case); the same watcher attached to
        # several assets is one trigger, so every asset gets the record.
        found = [
            *getattr(self._accessors, "_by_name", {}).values(),
            *getattr(self._accessors, "_by_uri", {}).values(),
        ]
        return found or [self._accessors]

    async def load(self) -> list[Any]:
        return [await accessor.aget(KEY) for accessor in self._each()]

    async def save(self, value: dict[str, str]) -> None:
        for accessor in self._each():
            await accessor.aset(KEY, value)


class _VariableStore:
    """An Airflow Variable (Airflow 3.1 and 3.2), through the Task SDK in a worker thread."""

    def __init__(self, key: str) -> None:
        self.key = key
        self.description = f"the Airflow Variable `{key}`"

    async def load(self) -> list[Any]:
        from airflow.sdk import Variable
        from asgiref.sync import sync_to_async

        # The triggerer's Task SDK calls are synchronous; `sync_to_async` is the bridge
        # Airflow documents for triggers (it keeps them off the event loop's thread).
        return [await sync_to_async(Variable.get)(self.key, None, deserialize_json=True)]

    async def save(self, value: dict[str, str]) -> None:
        from airflow.sdk import Variable
        from asgiref.sync import sync_to_async

        await sync_to_async(Variable.set)(
            self.key,
            value,
            description="Last stream-table change a pg_trickle asset watcher announced "
            "(airflow-provider-pgtrickle); delete it to reset the watcher.",
            serialize_json=True,
        )


def restored(values: list[Any], stream_table: str) -> Announced | None:
    """The record a watcher resumes from, given what `AnnouncedStore.load` returned.

    Several places (one watcher on several assets): the oldest record, so that no asset misses
    a change. No record anywhere: None (the watcher starts from what it first sees).
    """
    records = [r for r in (Announced.from_json(v, stream_table) for v in values) if r is not None]
    return min(records, key=lambda r: r.data_timestamp, default=None)


def store_for(trigger: Any) -> AnnouncedStore | None:
    """The store a watcher trigger uses here (see the module docstring), or None."""
    accessors = getattr(trigger, "asset_state_store", None)
    if accessors is not None:
        return _AssetStateStore(accessors)
    if has_airflow(ASSET_STATE_STORE):
        # Airflow 3.3 gives every asset watcher a state store: without one, the trigger is
        # not watching an asset (run directly, or in a test); nothing to remember for.
        return None
    return _VariableStore(variable_key(trigger.postgres_conn_id, trigger.stream_table))
