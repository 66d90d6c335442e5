"""Recording for `scripts/differential.py` (only with `PGTRICKLE_OBSERVE` set; see `_observe`)."""

from __future__ import annotations

import pytest

from . import _observe


@pytest.fixture(autouse=True)
def _observe_test(request: pytest.FixtureRequest) -> None:
    if _observe.enabled():
        _observe.start(request.node.nodeid)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if not _observe.enabled():
        return
    if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
        detail = ""
        crash = getattr(report.longrepr, "reprcrash", None)
        if report.failed and crash is not None:
            detail = str(crash.message)
        if report.skipped and isinstance(report.longrepr, tuple):
            detail = str(report.longrepr[2])
        _observe.finish(report.nodeid, report.outcome, detail)


def pytest_sessionfinish() -> None:
    if _observe.enabled():
        _observe.write()
