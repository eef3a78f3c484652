"""A flaky Telegram on demand: for a while, a share of the calls fail with a 5xx or hang (``World.fail_randomly``,
``POST /sandbox/api/faults`` with ``rate``), the same calls on every run with the same seed."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramServerError

from sandbox.errors import SandboxError
from sandbox.limits import Limits
from sandbox.world import World
from tests.sandbox.test_emulator import (  # noqa: F401 - pytest fixtures, requested by parameter name
    TOKEN,
    bot,
    emulator,
    http,
    world,
)

CALLS = 400


class ManualClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def flaky_world(clock: ManualClock) -> tuple[World, int]:
    """A world on ``clock`` without flood limits, and a user the bot may write to."""
    world = World(limits=Limits.off(), clock=clock)
    return world, world.add_user("Anna").id


async def outcomes(world: World, chat_id: int, method: str = "sendMessage", calls: int = CALLS) -> list[str]:
    """What each of ``calls`` calls got: "ok", "5xx" or "timeout" (the request held, no answer)."""
    seen = []
    for n in range(calls):
        params = {"chat_id": chat_id, "text": f"hi {n}"} if method == "sendMessage" else {}
        reply = await world.handle(TOKEN, method, params)
        if reply.hold:
            seen.append("timeout")
        elif reply.status == 500:
            seen.append("5xx")
        else:
            assert reply.status == 200, reply.body
            seen.append("ok")
    return seen


async def test_a_share_of_the_calls_fails_with_a_mix_of_kinds_the_same_with_the_same_seed() -> None:
    first_world, anna = flaky_world(ManualClock())
    first_world.fail_randomly(rate=0.25, seconds=60, seed=7)
    first = await outcomes(first_world, anna)

    failed = [o for o in first if o != "ok"]
    assert 0.15 * CALLS < len(failed) < 0.35 * CALLS, f"{len(failed)} of {CALLS} failed at rate 0.25"
    assert {"5xx", "timeout"} <= set(failed), "both kinds are drawn"
    faults = [c.fault for c in first_world.calls if c.fault]
    assert sorted(faults) == sorted(failed), "the call log names each fault"
    assert all(c.status == 0 for c in first_world.calls if c.fault == "timeout")

    second_world, anna_again = flaky_world(ManualClock())
    second_world.fail_randomly(rate=0.25, seconds=60, seed=7)
    assert await outcomes(second_world, anna_again) == first, "the same seed fails the same calls the same way"

    other_world, anna_other = flaky_world(ManualClock())
    other_world.fail_randomly(rate=0.25, seconds=60, seed=8)
    assert await outcomes(other_world, anna_other) != first


async def test_the_window_ends_after_its_seconds_and_only_the_chosen_methods_fail() -> None:
    clock = ManualClock()
    world, anna = flaky_world(clock)
    world.fail_randomly(rate=1.0, seconds=30, kinds=["5xx"])
    assert await outcomes(world, anna, "getMe", 3) == ["ok"] * 3  # not a sending method: spared by default
    assert await outcomes(world, anna, calls=3) == ["5xx"] * 3
    clock.now += 29.9
    assert await outcomes(world, anna, calls=1) == ["5xx"]
    clock.now += 0.1
    assert await outcomes(world, anna, calls=3) == ["ok"] * 3
    assert world.faults == [], "an ended window is removed"

    world.fail_randomly(rate=1.0, seconds=30, kinds=["timeout"], methods=["*"])
    assert await outcomes(world, anna, "getMe", 2) == ["timeout"] * 2


async def test_counted_faults_come_first_and_a_429_window_tells_retry_after() -> None:
    world, anna = flaky_world(ManualClock())
    world.fail_randomly(rate=1.0, seconds=30, kinds=["429"], retry_after=3)
    world.fail_next(1, kind="5xx")
    assert await outcomes(world, anna, calls=1) == ["5xx"]
    reply = await world.handle(TOKEN, "sendMessage", {"chat_id": anna, "text": "hi"})
    assert reply.status == 429 and reply.retry_after == 3


@pytest.mark.parametrize(
    ("arguments", "problem"),
    [
        ({"rate": 0.0, "seconds": 10}, "rate"),
        ({"rate": 1.5, "seconds": 10}, "rate"),
        ({"rate": 0.1, "seconds": 0}, "seconds"),
        ({"rate": 0.1, "seconds": 10, "kinds": ["meteor"]}, "meteor"),
        ({"rate": 0.1, "seconds": 10, "kinds": []}, "no fault kinds"),
        ({"rate": 0.1, "seconds": 10, "retry_after": 0}, "retry_after"),
    ],
)
def test_a_window_that_makes_no_sense_is_refused(arguments: dict[str, Any], problem: str) -> None:
    world, _ = flaky_world(ManualClock())
    with pytest.raises(SandboxError, match=problem):
        world.fail_randomly(**arguments)
    assert world.faults == []


async def test_the_http_test_api_asks_for_a_flaky_window(bot: Bot, world: World, http: aiohttp.ClientSession) -> None:
    anna = world.add_user("Anna")
    body = {"rate": 1, "seconds": 60, "kinds": ["5xx"], "methods": ["sendMessage"], "seed": 1}
    async with http.post("/sandbox/api/faults", json=body) as response:
        assert response.status == 200 and await response.json() == {"ok": True}
    with pytest.raises(TelegramServerError):
        await bot.send_message(anna.id, "hi")
    assert (await bot.get_me()).id == int(TOKEN.split(":")[0])
    assert [c.fault for c in world.calls] == ["5xx", None]

    for bad, problem in (
        ({"rate": "often", "seconds": 60}, "rate must be a number"),
        ({"rate": 0.5}, "seconds must be a number"),
        ({"rate": 0.5, "seconds": 60, "kinds": "5xx"}, "kinds must be a list"),
        ({"rate": 0.5, "seconds": 60, "kinds": ["meteor"]}, "meteor"),
    ):
        async with http.post("/sandbox/api/faults", json=bad) as response:
            answer = await response.json()
        assert response.status == 400 and problem in answer["error"], (bad, answer)
