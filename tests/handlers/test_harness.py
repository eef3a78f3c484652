"""The harness itself: /start through the production Dispatcher, the command menus, and the fake Telegram's rules
(edits, "message is not modified", unanswered callbacks, injected failures) on a toy router."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiogram import Bot, Dispatcher, F, Router
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError
from aiogram.types import CallbackQuery, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder

from sandbox.spec import validate_request
from tests.handlers.chat import Alert, Chat
from tests.handlers.conftest import detach_routers
from tests.telegram.recorder import RecordingSession, forbidden


async def test_start_answers_with_valid_requests(chat: Chat, seeded, recorder: RecordingSession) -> None:
    await chat.send("/start")

    sent = chat.replies("sendMessage")
    assert sent, "no sendMessage for /start"
    for request in sent:
        assert validate_request("sendMessage", request.params) == []
        assert request.params["chat_id"] == chat.user_id
        assert request.params["parse_mode"] == "HTML"
    assert "Anna" in chat.last_text()
    assert chat.buttons(), "the main menu has no buttons"
    assert recorder.violations == []


async def test_start_deep_link_is_a_command(chat: Chat, seeded) -> None:
    await chat.send("/start ev-no-such-event")

    assert chat.replies("sendMessage")


async def test_startup_sets_commands_for_every_language(dp: Dispatcher, recorder: RecordingSession) -> None:
    calls = [c for c in recorder.calls("setMyCommands") if c.params["scope"]["type"] != "chat"]  # not the desk's
    languages = [c.params.get("language_code") for c in calls]

    assert sorted(languages, key=str) == sorted([None, *dp["i18n"].languages], key=str)
    for call in calls:
        assert call.error is None
        assert validate_request("setMyCommands", call.params) == []
        assert call.params["scope"] == {"type": "all_private_chats"}
        assert {c["command"] for c in call.params["commands"]} >= {"start", "help"}


# ---- the fake Telegram, on a toy router (not the bot's handlers) ---------------------------------------------------

toy = Router(name="toy")


@toy.message(F.text == "menu")
async def _menu(message: Message) -> None:
    kb = InlineKeyboardBuilder()
    kb.button(text="Keep", callback_data="keep")
    kb.button(text="Drop keyboard", callback_data="drop")
    kb.button(text="Silent", callback_data="silent")
    kb.button(text="Docs", url="https://example.org")
    await message.answer("<b>Menu</b> &amp; more", reply_markup=kb.as_markup())


@toy.callback_query(F.data == "keep")
async def _keep(query: CallbackQuery) -> None:
    try:  # the same text and keyboard again: Telegram refuses
        await query.message.edit_text("<b>Menu</b> &amp; more", reply_markup=query.message.reply_markup)
    except TelegramBadRequest as error:
        await query.answer(error.message, show_alert=True)
        return
    await query.answer()


@toy.callback_query(F.data == "drop")
async def _drop(query: CallbackQuery) -> None:
    await query.message.edit_text("Done")  # no reply_markup: the keyboard goes away
    await query.answer("Dropped")


@toy.callback_query(F.data == "silent")
async def _silent(query: CallbackQuery) -> None:
    pass


@toy.message(F.text == "blocked")
async def _blocked(message: Message) -> None:
    try:
        await message.answer("you will not see this")
    except TelegramForbiddenError:
        await message.answer("retry later")


@pytest.fixture
async def toy_chat(bot: Bot, recorder: RecordingSession) -> AsyncIterator[Chat]:
    dispatcher = Dispatcher()
    dispatcher.include_router(toy)
    yield Chat(dispatcher, bot, recorder, 2002, first_name="Toy")
    detach_routers(dispatcher)  # the router is module-level; let the next test attach it again


async def test_message_ids_count_per_chat_and_text_is_parsed(toy_chat: Chat) -> None:
    user_message = await toy_chat.send("menu")
    bot_message = toy_chat.last_message()

    assert bot_message.message_id == user_message.message_id + 1
    assert bot_message.text == "Menu & more"
    assert bot_message.html_text == "<b>Menu</b> &amp; more"
    assert toy_chat.buttons() == ["Keep", "Drop keyboard", "Silent", "Docs"]


async def test_identical_edit_is_not_modified(toy_chat: Chat) -> None:
    await toy_chat.send("menu")
    await toy_chat.press("Keep")

    (edit,) = toy_chat.replies("editMessageText")
    assert isinstance(edit.error, TelegramBadRequest)
    assert "message is not modified" in edit.error.message
    assert toy_chat.alerts()[0].show_alert


async def test_edit_without_markup_removes_the_keyboard(toy_chat: Chat) -> None:
    await toy_chat.send("menu")
    await toy_chat.press("Drop")

    assert toy_chat.last_text() == "Done"
    assert toy_chat.buttons() == []
    assert toy_chat.alerts() == [Alert("Dropped", False)]
    with pytest.raises(AssertionError, match="no bot message with an inline keyboard"):
        await toy_chat.press("Keep")


async def test_press_finds_buttons_by_text_or_predicate(toy_chat: Chat) -> None:
    await toy_chat.send("menu")

    with pytest.raises(AssertionError, match="no button"):
        await toy_chat.press("Nope")
    with pytest.raises(AssertionError, match="sends no callback"):
        await toy_chat.press("Docs")
    await toy_chat.press(lambda b: b.callback_data == "drop")
    assert toy_chat.last_text() == "Done"


async def test_unanswered_callback_is_a_violation(toy_chat: Chat, recorder: RecordingSession) -> None:
    await toy_chat.send("menu")
    await toy_chat.press("Silent")

    assert len(recorder.violations) == 1
    assert "never answered" in recorder.violations[0]
    recorder.violations.clear()  # proven; keep the teardown check green


async def test_injected_failure(toy_chat: Chat, recorder: RecordingSession) -> None:
    recorder.fail_next("sendMessage", forbidden())
    await toy_chat.send("blocked")

    first, second = toy_chat.replies("sendMessage")
    assert isinstance(first.error, TelegramForbiddenError)
    assert second.error is None and second.text == "retry later"
