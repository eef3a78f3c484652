"""Organisers see their commands in Telegram's menu of their own chat (issue 14), and the bot's descriptions are set
per language (issue 15): ``setMyCommands`` with ``BotCommandScopeChat`` in the organiser's language when they send
/start there and at the leader's start for known organisers (bounded, once per version: repeating asks nothing);
tourists keep the default menu; the descriptions are set only when changed."""

from __future__ import annotations

import pytest
from aiogram import Bot, Dispatcher

from bot.bot_descriptions import DESCRIPTION, set_descriptions, update_bot_profile
from bot.command_menus import CommandMenus
from tests.handlers.chat import Chat
from tests.handlers.conftest import OPERATOR_CHAT_ID
from tests.handlers.organiser_wiring import organiser_chat, wire_organiser_routers
from tests.seed import INSTANT_ORGANISER_CHAT_ID, ORGANISER_CHAT_ID
from tests.telegram.recorder import RecordingSession

ORGANISER_COMMANDS = ["sessions", "questions", "settings"]


@pytest.fixture(autouse=True)
def _routers(monkeypatch: pytest.MonkeyPatch) -> None:
    wire_organiser_routers(monkeypatch)


def chat_menus(recorder: RecordingSession) -> list[tuple[int, list[str], list[str]]]:
    """Each chat-scoped setMyCommands but the operator group's (the desk's menu): (chat, commands, descriptions)."""
    return [
        (
            r.params["scope"]["chat_id"],
            [c["command"] for c in r.params["commands"]],
            [c["description"] for c in r.params["commands"]],
        )
        for r in recorder.calls("setMyCommands")
        if (r.params.get("scope") or {}).get("type") == "chat" and r.params["scope"]["chat_id"] != OPERATOR_CHAT_ID
    ]


async def test_an_organisers_start_sets_their_menu_once(dp: Dispatcher, bot: Bot, recorder: RecordingSession, seeded):
    org = organiser_chat(dp, bot, recorder)  # English
    await org.send("/start")
    assert org.last_text().startswith("Hello, Kapten!")  # /start goes on as before
    [(chat_id, commands, descriptions)] = chat_menus(recorder)
    assert chat_id == ORGANISER_CHAT_ID
    assert commands[:3] == ORGANISER_COMMANDS and "events" in commands and "orders" in commands
    assert descriptions[0] == "Your sessions: seats, new dates, stop sales"
    await org.send("/start")
    await org.send("/start chk-NOPE")  # a check-in link is /start too
    assert len(chat_menus(recorder)) == 1  # the same version: no second request


async def test_the_menu_is_in_the_organisers_language(organiser: Chat, recorder: RecordingSession, seeded) -> None:
    await organiser.send("/start")  # the seeded organiser reads Estonian
    [(_, commands, descriptions)] = chat_menus(recorder)
    assert commands[0] == "sessions" and descriptions[0] != "Your sessions: seats, new dates, stop sales"


async def test_a_tourist_keeps_the_default_menu(chat: Chat, recorder: RecordingSession, seeded) -> None:
    await chat.send("/start")
    assert chat_menus(recorder) == []


async def test_the_leaders_start_sets_the_missing_menus_bounded_and_once(
    bot: Bot, recorder: RecordingSession, sessions, clock, dp: Dispatcher, seeded
) -> None:
    menus = CommandMenus(sessions, dp["i18n"], clock)
    recorder.clear()
    assert await menus.sync(bot, limit=1, pause_s=0) == 1  # bounded: one now, the other at the next start
    assert [chat for chat, _, _ in chat_menus(recorder)] == [ORGANISER_CHAT_ID]
    assert await menus.sync(bot, pause_s=0) == 1
    assert [chat for chat, _, _ in chat_menus(recorder)] == [ORGANISER_CHAT_ID, INSTANT_ORGANISER_CHAT_ID]
    # another process (a restart) knows them from the database: nothing to ask
    assert await CommandMenus(sessions, dp["i18n"], clock).sync(bot, pause_s=0) == 0
    assert len(chat_menus(recorder)) == 2


async def test_the_descriptions_are_set_per_language_only_when_changed(
    bot: Bot, recorder: RecordingSession, sessions, clock, dp: Dispatcher, seeded
) -> None:
    recorder.clear()
    await update_bot_profile(bot, sessions, dp["i18n"], clock, CommandMenus(sessions, dp["i18n"], clock))
    described = {r.params.get("language_code"): r.params["description"] for r in recorder.calls("setMyDescription")}
    languages = set(dp["i18n"].languages)
    assert set(described) == {None, *languages} and described[None] == DESCRIPTION
    assert described["de"] != DESCRIPTION and described["et"] != DESCRIPTION  # translated
    short = {r.params.get("language_code") for r in recorder.calls("setMyShortDescription")}
    assert short == {None, *languages}
    assert len(chat_menus(recorder)) == 2  # and the organisers' menus
    recorder.clear()
    assert await set_descriptions(bot, sessions, dp["i18n"], clock) == 0  # a restart with the same texts
    assert recorder.calls("setMyDescription") == [] and recorder.calls("setMyShortDescription") == []
