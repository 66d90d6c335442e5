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
_RANDOM = re.compile(r"\b(pgt_[0-9a-f]{12}|pgt_other_[0-9a-f]{8}|[a-z_]+_[0-9a-f]{8,})\b")
_OID_IN_TEXT = re.compile(r"\b(oid|relid|OID)[ =:]+\d+")
_OID_KEYS = ("oid", "relid", "pid", "xid", "lsn", "_hash")
_TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d")
_LSN = re.compile(r"^[0-9A-F]+/[0-9A-F]+$")


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
    _record[_now[0]].append({kind: _text(what)[:160], "value": normalise(value)})


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
    return _OID_IN_TEXT.sub(r"\1 <oid>", _RANDOM.sub("<name>", value))


def normalise(value: Any, key: str = "") -> Any:
    """A JSON-able value in which only behaviour, not identity or timing, is left."""
    if isinstance(value, dict):
        # Keys that are OIDs (a frontier's sources) differ between servers: keep their order.
        return {
            ("<oid>" if str(k).isdigit() else k): normalise(v, str(k))
            for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))
        }
    if isinstance(value, list | tuple):
        return [normalise(v) for v in value]
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return "<time>"
    if isinstance(value, dt.timedelta):
        return "<interval>"
    if isinstance(value, float | decimal.Decimal) and key.endswith(("_ms", "_s", "seconds")):
        return "<duration>"
    if isinstance(value, int) and any(key.endswith(k) for k in _OID_KEYS):
        return "<oid>"
    if isinstance(value, uuid.UUID):
        return "<uuid>"
    if isinstance(value, bytes | memoryview):
        return f"<bytes {len(bytes(value))}>"
    if isinstance(value, str):
        if _TIMESTAMP.match(value):
            return "<time>"
        return "<lsn>" if _LSN.match(value) else _text(value)
    if isinstance(value, int | float):
        return value
    return f"<{type(value).__name__}>"
