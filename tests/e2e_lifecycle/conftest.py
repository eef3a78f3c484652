"""What every module here shares: its own emulator (module scope) with the operator group, the per-test check that
the bot still runs, made no request the emulator refused and crashed no handler, and the per-test reports on the
item (``rep_setup``, ``rep_call``) so that check can print the bot's log of a failed test. Each module brings its
own ``database`` and ``bot`` (the catalog windows and the environment its story needs)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from sandbox.errors import NOT_MODIFIED
from sandbox.server import Emulator
from sandbox.world import World
from tests.e2e.conftest import (
    BotProcess,
    add_operator_group,
    running_emulator,
)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def emulator() -> AsyncIterator[Emulator]:
    async with running_emulator() as emulator:
        yield emulator


@pytest.fixture
def world(emulator: Emulator) -> World:
    return emulator.world


@pytest.fixture(scope="module")
def operators(emulator: Emulator) -> int:
    return add_operator_group(emulator.world)


@pytest_asyncio.fixture(autouse=True, loop_scope="module")
async def _checked(request: pytest.FixtureRequest, emulator: Emulator, bot: BotProcess) -> AsyncIterator[None]:
    """After each test: the bot still runs, made no request the emulator refused, and no handler crashed; the
    bot's log of the test is printed if it failed."""
    world = emulator.world
    since, mark = bot.log_size(), len(world.calls)
    started = asyncio.get_running_loop().time()
    yield
    print(f"\n{request.node.name}: {asyncio.get_running_loop().time() - started:.1f} s")
    failed = getattr(getattr(request.node, "rep_call", None), "failed", False)
    if failed:
        print(f"---- the bot's log during this test ({bot.log_path}) ----\n{bot.tail(since=since)}")
    refused = [
        f"{c.method} {c.params} -> {c.status} {c.description}"
        for c in world.calls[mark:]
        if c.status in (400, 401, 404, 409) and c.description != NOT_MODIFIED
    ]
    assert not refused, "the emulator refused requests of the bot:\n" + "\n".join(refused)
    assert bot.running, f"the bot process exited ({bot.process.returncode}):\n{bot.tail()}"
    crashes = bot.backstop_lines(since)
    assert not crashes, "a handler crashed:\n" + "\n".join(crashes)
