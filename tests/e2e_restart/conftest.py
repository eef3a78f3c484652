"""Fixtures of the kill -9 tests: each test has its own emulator (the bot process is started, killed and restarted
by the test itself, see tests/e2e_lifecycle/harness.py) and its own database."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from bot.sandbox.limits import Limits
from bot.sandbox.server import Emulator
from tests.seed import ORGANISER_CHAT_ID


@pytest_asyncio.fixture
async def emulator() -> AsyncIterator[Emulator]:
    emulator = Emulator(limits=Limits.off())
    await emulator.start(host="127.0.0.1", port=0)
    emulator.world.add_user(first_name="Kapten", language_code="et", user_id=ORGANISER_CHAT_ID)
    yield emulator
    await emulator.stop()


@pytest.fixture
def operators(emulator: Emulator) -> int:
    """The operator group (the bot's OPERATOR_CHAT_ID)."""
    world = emulator.world
    return world.add_group(title="Ops", members=[world.add_user(first_name="Olga").id]).id
