"""What differs between the Airflow versions the provider supports (3.1 and later), in one place.

Every other module imports the names below from here instead of guessing where the running
Airflow keeps them, and gates on `has_airflow` (a feature that needs a newer Airflow degrades,
or is refused by `exceptions.require_airflow` with `PgTrickleAirflowVersionError`). This
module imports nothing of the provider: the exceptions import it. Importing this
module costs no more than importing `airflow.sdk`, which every DAG-facing module of the
provider does anyway.

==============================================  =====  =====  =====
what                                            3.1    3.2    3.3
==============================================  =====  =====  =====
``airflow.sdk.exceptions.AirflowFailException``  no    yes    yes
``airflow.sdk.conf``                             no    yes    yes
declarative connection form (provider info)      no    yes    yes
triggerer shared streams (else one per trigger)  no    no     yes
top-level navigation entry for the UI plugin     no    no     yes
==============================================  =====  =====  =====

The user-facing table is in docs/install.md ("Compatibility").
"""

from __future__ import annotations

import re
from typing import Any

import airflow

# Airflow 3.2 moved these into the Task SDK (the old names warn there); 3.1 has them only in
# `airflow.exceptions`. `AirflowException` itself is in `airflow.sdk.exceptions` since 3.1.
try:
    from airflow.sdk.exceptions import (
        AirflowFailException,
        AirflowNotFoundException,
        AirflowSensorTimeout,
    )
except ImportError:  # Airflow 3.1
    from airflow.exceptions import (  # type: ignore[assignment,attr-defined,no-redef,unused-ignore]
        AirflowFailException,
        AirflowNotFoundException,
        AirflowSensorTimeout,
    )
try:  # Airflow 3.2+: the Task SDK's configuration
    from airflow.sdk import conf
except ImportError:  # Airflow 3.1
    from airflow.configuration import conf  # type: ignore[assignment,attr-defined,no-redef,unused-ignore]

__all__ = [
    "AIRFLOW_VERSION",
    "DECLARATIVE_CONNECTION_FORMS",
    "MIN_AIRFLOW",
    "SHARED_TRIGGER_STREAMS",
    "AirflowFailException",
    "AirflowNotFoundException",
    "AirflowSensorTimeout",
    "airflow_version",
    "conf",
    "has_airflow",
    "legacy_field_behaviour",
]

#: The oldest Airflow whose interfaces the provider uses; older ones are refused at import.
#: pyproject.toml declares 3.1.7, the oldest release CI proves (it says why).
MIN_AIRFLOW = (3, 1)
#: Connection forms come from provider info (`conn-fields`, `ui-field-behaviour`) since 3.2;
#: older Airflow asks the hook class (`get_ui_field_behaviour`).
DECLARATIVE_CONNECTION_FORMS = (3, 2)
#: The triggerer groups event triggers by `shared_stream_key()` since 3.3; older triggerers
#: call each trigger's `run()`, which then holds its own listener connection.
SHARED_TRIGGER_STREAMS = (3, 3)


def airflow_version(text: str | None = None) -> tuple[int, int, int]:
    """``(major, minor, micro)`` of ``text`` (default: the running Airflow's version).

    Pre-release and local suffixes are ignored: ``3.2.0rc1`` and ``3.2.0+astro.1`` are 3.2.0.
    """
    raw = airflow.__version__ if text is None else text
    parts = [int(p) for p in re.findall(r"\d+", raw.split("+", 1)[0])[:3]]
    parts += [0] * (3 - len(parts))
    return parts[0], parts[1], parts[2]


AIRFLOW_VERSION = airflow_version()


def has_airflow(needed: tuple[int, ...], *, running: tuple[int, int, int] | None = None) -> bool:
    """Whether the running Airflow (or ``running``) is ``needed`` or later."""
    have = AIRFLOW_VERSION if running is None else running
    return have[: len(needed)] >= needed


def legacy_field_behaviour(connection_type: str) -> dict[str, Any]:
    """The connection form of ``connection_type`` in the shape Airflow 3.1's hook method returns.

    Airflow 3.2+ reads the declarative ``ui-field-behaviour`` from provider info; 3.1 reads
    ``get_ui_field_behaviour()`` from the hook class. Both come from provider info, so the two
    never disagree.
    """
    from airflow_provider_pgtrickle.get_provider_info import get_provider_info

    (declared,) = (
        entry["ui-field-behaviour"]
        for entry in get_provider_info()["connection-types"]
        if entry["connection-type"] == connection_type
    )
    return {key.replace("-", "_"): value for key, value in declared.items()}
