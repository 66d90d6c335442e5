"""Record what the conformance suite observes, for the double-versus-real-server comparison.

With `PGTRICKLE_OBSERVE=<file>` set, the SQL helpers in `_helpers` append every result and
every error (SQLSTATE and primary message) to the current test's list, and the test's outcome
is added at the end; the whole record is written to `<file>` as JSON when the session ends.
`scripts/differential.py` runs the suite once on the double and once on a real server and
prints the two records side by side. Without the variable nothing is recorded.

Values that differ between any two servers by nature (timestamps, OIDs, durations, random
names) are replaced by their kind, so only differences in behaviour remain.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import os
import re
import uuid
from pathlib import Path
from typing import Any

ENV = "PGTRICKLE_OBSERVE"

_record: dict[str, list[Any]] = {}
# The test now running (one at a time: the suite does not run tests in parallel threads).
_now: list[str] = []

# Names that tests make unique per run (roles, databases) and OIDs printed inside messages.
# A change buffer is named after its source's stable name upstream and after its OID in the double.
_RANDOM = re.compile(
    r"\b(pgt_[0-9a-f]{12}|pgt_other_[0-9a-f]{8}|[a-z_]+_[0-9a-f]{8,}|changes_[0-9]+)\b"
)
_OID_IN_TEXT = re.compile(r"\b(oid|relid|OID)[ =:]+\d+")
# version(): the server's build (version, platform, compiler), not pg_trickle's behaviour.
_SERVER_VERSION = re.compile(r"PostgreSQL \d+\.\d+ on [^\"]*")
_OID_QUERY = re.compile(r"::oid\b")
_OID_KEYS = ("oid", "relid", "pid", "xid", "lsn", "_hash")
_TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d")
# pg_trickle writes a frontier's times as Unix seconds plus "Z" (src/api/mod.rs,
# get_data_timestamp_str); the double writes ISO timestamps. Nothing reads them but the engine.
_EPOCH_Z = re.compile(r"^\d{9,11}Z$")
_LSN = re.compile(r"^[0-9A-F]+/[0-9A-F]+$")
# Relations pg_trickle creates for itself: its catalog (schema `pgtrickle`) and change buffers
# (`pgtrickle_changes`, one table, sequence and index per source upstream; one counter table in
# the double; `pgtrickle_test` is the double's test kit). Their set is the engine's
# implementation; the product's objects (storage
# tables, their indexes, partitions) live in the user's schemas and stay in the record.
_OWN_SCHEMAS = frozenset({"pgtrickle", "pgtrickle_changes", "pgtrickle_test"})
# Catalog columns pg_trickle fills for its own planning and bookkeeping, which the double does
# not keep and the product does not read (docs/pg_trickle-contract.md, section 3, lists the
# columns it reads): the DVM parser's function list and hashes, the adaptive FULL/DIFF
# threshold and refresh timings (pgt_stream_tables), the source schema snapshot
# (pgt_dependencies) and the merge statistics (pgt_refresh_history).
_BOOKKEEPING = frozenset(
    {
        "auto_threshold",
        "functions_used",
        "function_hashes",
        "last_full_ms",
        "last_diff_ms",
        "column_snapshot",
        "schema_fingerprint",
        "merge_strategy_used",
        "delta_row_count",
    }
)


def enabled() -> bool:
    return bool(os.environ.get(ENV))


def start(test_id: str) -> None:
    _now[:] = [test_id]
    _record[test_id] = []


def finish(test_id: str, outcome: str, detail: str = "") -> None:
    _record.setdefault(test_id, []).append({"outcome": outcome, "detail": _text(detail)[:300]})


def record(kind: str, what: str, value: Any) -> None:
    if not _now or not enabled():
        return
    # A single value read as `...::oid` is an OID, as a column named like one would be.
    key = "oid" if _OID_QUERY.search(what) else ""
    _record[_now[0]].append({kind: _text(what)[:160], "value": normalise(value, key)})


def record_error(what: str, exc: BaseException) -> None:
    if not _now or not enabled():
        return
    diag = getattr(exc, "diag", None)
    primary = getattr(diag, "message_primary", None) or str(exc).splitlines()[0]
    _record[_now[0]].append(
        {
            "error": _text(what)[:160],
            "sqlstate": getattr(exc, "sqlstate", None),
            "message": _text(primary),
        }
    )


def write() -> None:
    path = os.environ.get(ENV)
    if path:
        Path(path).write_text(json.dumps(_record, indent=1, sort_keys=True), encoding="utf-8")


def _text(value: str) -> str:
    value = _SERVER_VERSION.sub("PostgreSQL <version>", value)
    return _OID_IN_TEXT.sub(r"\1 <oid>", _RANDOM.sub("<name>", value))


def normalise(value: Any, key: str = "") -> Any:
    """A JSON-able value in which only behaviour, not identity or timing, is left."""
    if isinstance(value, dict):
        # Keys that are OIDs (a frontier's sources) differ between servers: keep their order.
        return {
            ("<oid>" if str(k).isdigit() else k): normalise(v, str(k))
            for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))
            if k not in _BOOKKEEPING
        }
    if isinstance(value, list | tuple):
        return [normalise(v) for v in value if not _own_relation(v)]
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return "<time>"
    if isinstance(value, dt.timedelta):
        return "<interval>"
    if isinstance(value, int | float | decimal.Decimal) and key.endswith(("_ms", "_s", "seconds")):
        return "<duration>"
    if isinstance(value, int) and any(key.endswith(k) for k in _OID_KEYS):
        return "<oid>"
    if isinstance(value, uuid.UUID):
        return "<uuid>"
    if isinstance(value, bytes | memoryview):
        return f"<bytes {len(bytes(value))}>"
    if isinstance(value, str):
        if _TIMESTAMP.match(value) or _EPOCH_Z.match(value):
            return "<time>"
        return "<lsn>" if _LSN.match(value) else _text(value)
    if isinstance(value, int | float):
        return value
    return f"<{type(value).__name__}>"


def _own_relation(value: Any) -> bool:
    """A relation (or a trigger on one) that pg_trickle or the double made for itself."""
    if not isinstance(value, dict):
        return False
    if "relname" in value:
        return value.get("nspname") in _OWN_SCHEMAS
    if "tgname" in value and isinstance(value.get("rel"), str):
        return value["rel"].split(".")[0] in _OWN_SCHEMAS
    return False
