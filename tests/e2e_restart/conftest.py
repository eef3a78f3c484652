"""Fixtures of the kill -9 tests: each test has its own emulator (the bot process is started, killed and restarted
by the test itself, see tests/e2e_lifecycle/harness.py) and its own database."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from sandbox.server import Emulator
from tests.e2e.conftest import add_operator_group, running_emulator


@pytest_asyncio.fixture
async def emulator() -> AsyncIterator[Emulator]:
    async with running_emulator() as emulator:
        yield emulator


@pytest.fixture
def operators(emulator: Emulator) -> int:
    return add_operator_group(emulator.world)
