"""The real bot process against the emulator (issues 14 and 15): its descriptions are set in every language at its
start; an organiser's /start puts their commands in their chat's menu (tourists keep the default one); a guest who
blocks the bot in the emulator is marked blocked by the bot at once, and reachable again when they unblock it."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable

import pytest
from sqlalchemy import select

from bot.storage.tables import UserRow
from sandbox.world import World
from tests.e2e.conftest import Database
from tests.e2e.tourist import Tourist
from tests.seed import INSTANT_ORGANISER_CHAT_ID

pytestmark = pytest.mark.asyncio(loop_scope="package")  # with the package's bot process (see conftest)

WAIT_S = 15.0


def chat_menu(world: World, chat_id: int) -> list[str]:
    scope = json.dumps({"chat_id": chat_id, "type": "chat"}, sort_keys=True)
    return [c["command"] for c in world.bot.commands.get((scope, ""), [])]


async def blocked(database: Database, user_id: int, expected: bool) -> bool:
    """Whether the bot's database says ``user_id`` blocked it, once it says ``expected`` (or the wait ends)."""
    for _ in range(int(WAIT_S / 0.1)):
        async with database.sessions() as db:
            value = await db.scalar(select(UserRow.blocked_bot).where(UserRow.id == user_id))
        if value is expected:
            return value
        await asyncio.sleep(0.1)
    return bool(value)


async def test_descriptions_menus_and_blocking(
    tourist_factory: Callable[..., Awaitable[Tourist]], database: Database, world: World
) -> None:
    # the descriptions: in each language and the default (the leader set them at its start)
    every = {"", "en", "ru", "de", "et"}
    await world.wait_for(lambda: set(world.bot.descriptions) >= every <= set(world.bot.short_descriptions), WAIT_S)
    assert world.bot.descriptions["et"] != world.bot.descriptions[""]
    assert world.bot.short_descriptions["ru"] != world.bot.short_descriptions[""]

    # an organiser's /start: their commands in their chat's menu
    organiser = Tourist(world, world.user(INSTANT_ORGANISER_CHAT_ID))
    await organiser.send("/start")
    menu = await world.wait_for(lambda: chat_menu(world, INSTANT_ORGANISER_CHAT_ID), WAIT_S)
    assert menu[:3] == ["sessions", "questions", "settings"] and "events" in menu

    # a tourist keeps the default menu; blocking the bot marks them at once, unblocking clears it
    anna = await tourist_factory("Anna", "en")
    await anna.send("/start")
    assert chat_menu(world, anna.id) == []
    world.block_bot(anna.id)
    assert await blocked(database, anna.id, True) is True
    world.block_bot(anna.id, False)
    assert await blocked(database, anna.id, False) is False
