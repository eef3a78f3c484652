"""The per-test reports on the item (``rep_setup``, ``rep_call``), so that fixtures can tell a failed test and print
the bot's log of it (as tests/e2e/conftest.py does for its package)."""

from __future__ import annotations

import pytest


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):  # noqa: ANN201
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report
