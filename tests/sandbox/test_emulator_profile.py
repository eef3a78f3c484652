"""The emulator's bot profile (sandbox/methods/profile.py): command menus per chat scope and language (an organiser
chat's own menu, issue 14) and the descriptions per language (issue 15), stored and read back as Telegram does, and
refused as Telegram refuses them (too long, a bad language code, an unknown chat)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import BotCommand, BotCommandScopeAllPrivateChats, BotCommandScopeChat

from sandbox.limits import Limits
from sandbox.server import Emulator
from sandbox.world import World

TOKEN = "123456:AAE_sandbox-test-token-0000000000"


@pytest.fixture
async def emulator() -> AsyncIterator[Emulator]:
    emulator = Emulator(limits=Limits.off())
    await emulator.start()
    try:
        yield emulator
    finally:
        await emulator.stop()


@pytest.fixture
def world(emulator: Emulator) -> World:
    return emulator.world


@pytest.fixture
async def bot(emulator: Emulator) -> AsyncIterator[Bot]:
    bot = Bot(TOKEN, session=AiohttpSession(api=TelegramAPIServer.from_base(emulator.base_url)))
    yield bot
    if bot.session._session is not None:
        await bot.session._session.close()


async def test_a_chat_scoped_menu_is_that_chats_own(bot: Bot, world: World) -> None:
    anna = world.add_user("Anna")
    everyone = [BotCommand(command="start", description="Main menu")]
    own = [BotCommand(command="sessions", description="Your sessions"), *everyone]
    assert await bot.set_my_commands(everyone, scope=BotCommandScopeAllPrivateChats(), language_code="en")
    assert await bot.set_my_commands(own, scope=BotCommandScopeChat(chat_id=anna.id))
    read = await bot.get_my_commands(scope=BotCommandScopeChat(chat_id=anna.id))
    assert [c.command for c in read] == ["sessions", "start"]
    general = await bot.get_my_commands(scope=BotCommandScopeAllPrivateChats(), language_code="en")
    assert [c.command for c in general] == ["start"]
    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await bot.set_my_commands(own, scope=BotCommandScopeChat(chat_id=987654321))
    with pytest.raises(TelegramBadRequest, match="invalid language code"):
        await bot.set_my_commands(own, language_code="english")


async def test_descriptions_per_language_with_the_default_for_the_others(bot: Bot, world: World) -> None:
    assert await bot.set_my_description(description="Book excursions here.")
    assert await bot.set_my_description(description="Broneeri siin.", language_code="et")
    assert await bot.set_my_short_description(short_description="Excursions.")
    assert (await bot.get_my_description(language_code="et")).description == "Broneeri siin."
    assert (await bot.get_my_description(language_code="de")).description == "Book excursions here."  # the default
    assert (await bot.get_my_short_description()).short_description == "Excursions."
    assert world.bot.descriptions == {"": "Book excursions here.", "et": "Broneeri siin."}
    assert await bot.set_my_description(description="", language_code="et")  # removes the language's own
    assert (await bot.get_my_description(language_code="et")).description == "Book excursions here."


async def test_descriptions_are_checked_like_every_method(bot: Bot, world: World) -> None:
    with pytest.raises(TelegramBadRequest, match="0-512"):
        await bot.set_my_description(description="x" * 513)
    with pytest.raises(TelegramBadRequest, match="0-120"):
        await bot.set_my_short_description(short_description="x" * 121, language_code="en")
    with pytest.raises(TelegramBadRequest, match="invalid language code"):
        await bot.set_my_short_description(short_description="Hi", language_code="EN")
    assert world.bot.descriptions == {} and world.bot.short_descriptions == {}
