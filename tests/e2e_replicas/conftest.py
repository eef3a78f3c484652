"""Fixtures of the replica tests: one emulator per module (its webhook delivery posts to the bot, or to the
round-robin proxy in front of the replicas), with a short hold for "timeout" faults so that a test can keep an update
in a replica's hands for a bounded while; and the operator group."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from sandbox.limits import Limits
from sandbox.server import Emulator
from tests.e2e.conftest import add_operator_group
from tests.seed import INSTANT_ORGANISER_CHAT_ID, ORGANISER_CHAT_ID

HOLD_S = 2.0  # a "timeout" fault keeps the bot's request open this long, then answers 504 (the bot retries)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    setattr(item, f"rep_{report.when}", report)  # the tests' fixtures print the bots' logs when it failed
    return report


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def emulator() -> AsyncIterator[Emulator]:
    emulator = Emulator(limits=Limits.off(), hold_limit=HOLD_S)
    world = emulator.world
    world.add_user(first_name="Baltic Boats", language_code="et", user_id=ORGANISER_CHAT_ID)
    world.add_user(first_name="Old Town Guides", language_code="en", user_id=INSTANT_ORGANISER_CHAT_ID)
    await emulator.start(host="127.0.0.1", port=0)
    try:
        yield emulator
    finally:
        await emulator.stop()


@pytest.fixture(scope="module")
def operators(emulator: Emulator) -> int:
    return add_operator_group(emulator.world)
