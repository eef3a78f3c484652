"""The Bot API emulator answers a real aiogram Bot over HTTP exactly as Telegram would: methods, wire formats,
validation with Telegram's statuses and wording, the world's rules (blocked users, groups, topics, files).

Every test talks to a live :class:`~sandbox.server.Emulator` on a free port; after each test every successful
answer it gave is checked against the Bot API types (``bot-api.json``), so the emulator never feeds the bot an
object real Telegram would not send. Flows (polling, webhook, payments, limits, faults) are in
``test_emulator_flows.py``.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNotFound,
)
from aiogram.types import (
    BotCommand,
    BotCommandScopeAllPrivateChats,
    BufferedInputFile,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    LabeledPrice,
    ReplyKeyboardMarkup,
    ReplyParameters,
)

from sandbox.errors import NOT_MODIFIED, QUERY_TOO_OLD
from sandbox.limits import Limits
from sandbox.server import Emulator
from sandbox.spec import load_spec
from sandbox.state import AIOGRAM_REQUIRES
from sandbox.world import World

TOKEN = "123456:AAE_sandbox-test-token-0000000000"
BOT_ID = 123456


async def close_bot(bot: Bot) -> None:
    """Close the bot's HTTP session without AiohttpSession.close()'s fixed 0.25 s grace sleep (fast tests)."""
    session = bot.session._session
    if session is not None and not session.closed:
        await session.close()


def assert_answers_are_valid(world: World) -> None:
    """Every successful answer is a valid instance of the method's return type in the Bot API spec."""
    spec = load_spec()
    problems = []
    for call in world.calls:
        if call.ok and call.method in spec.methods:
            problems += spec.validate_object(spec.methods[call.method]["returns"], call.result, call.method)
    newer = {
        f"unknown field {name!r} for {type_name}" for type_name, fields in AIOGRAM_REQUIRES.items() for name in fields
    }
    problems = [p for p in problems if not any(p.endswith(n) for n in newer)]
    assert problems == [], "the emulator answered with objects Telegram would not send:\n" + "\n".join(problems)


@pytest.fixture
async def emulator() -> AsyncIterator[Emulator]:
    emulator = Emulator(limits=Limits.off())
    await emulator.start()
    try:
        yield emulator
    finally:
        await emulator.stop()
    assert_answers_are_valid(emulator.world)


@pytest.fixture
def world(emulator: Emulator) -> World:
    return emulator.world


@pytest.fixture
async def bot(emulator: Emulator) -> AsyncIterator[Bot]:
    bot = Bot(
        TOKEN,
        session=AiohttpSession(api=TelegramAPIServer.from_base(emulator.base_url)),
        default=DefaultBotProperties(parse_mode=ParseMode.HTML),
    )
    yield bot
    await close_bot(bot)


@pytest.fixture
async def http(emulator: Emulator) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(base_url=emulator.base_url) as session:
        yield session


def keyboard(*data: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text=d[:10] or "-", callback_data=d) for d in data]]
    )


async def raw(http: aiohttp.ClientSession, method: str, token: str = TOKEN, **kwargs: Any) -> tuple[int, dict, Any]:
    async with http.post(f"/bot{token}/{method}", **kwargs) as resp:
        return resp.status, await resp.json(), resp.headers


# ---- the wire ----------------------------------------------------------------------------------------------------


async def test_get_me_takes_the_identity_from_the_token(bot: Bot, world: World) -> None:
    me = await bot.get_me()
    assert (me.id, me.is_bot, me.username) == (BOT_ID, True, "tripdesk_sandbox_bot")
    assert world.bot.id == BOT_ID


async def test_send_message_parses_html_into_entities_and_keeps_the_inline_keyboard(bot: Bot, world: World) -> None:
    anna = world.add_user("Anna")
    sent = await bot.send_message(anna.id, "  <b>Islands</b> cruise &amp; more  ", reply_markup=keyboard("book:1"))
    assert sent.text == "Islands cruise & more"
    assert [(e.type, e.offset, e.length) for e in sent.entities or []] == [("bold", 0, 7)]
    assert sent.from_user is not None and sent.from_user.id == BOT_ID
    assert sent.reply_markup is not None and sent.reply_markup.inline_keyboard[0][0].callback_data == "book:1"
    (entry,) = world.transcript(anna.id)
    assert entry["text"] == "Islands cruise & more" and entry["edits"] == [] and entry["deleted"] is False


async def test_every_wire_format_is_read_and_typed_by_the_spec(world: World, http: aiohttp.ClientSession) -> None:
    anna = world.add_user("Anna")
    markup = json.dumps({"inline_keyboard": [[{"text": "Go", "callback_data": "go"}]]})
    # query string
    async with http.get(f"/bot{TOKEN}/sendMessage", params={"chat_id": str(anna.id), "text": "q"}) as resp:
        assert resp.status == 200 and (await resp.json())["result"]["text"] == "q"
    # urlencoded form: numbers, booleans and JSON arrive as strings
    status, body, _ = await raw(
        http,
        "sendMessage",
        data={"chat_id": str(anna.id), "text": "123", "disable_notification": "true", "reply_markup": markup},
    )
    assert status == 200 and body["result"]["text"] == "123"
    assert body["result"]["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "go"
    # JSON body
    status, body, _ = await raw(
        http, "sendMessage", json={"chat_id": anna.id, "text": "j", "reply_markup": json.loads(markup)}
    )
    assert status == 200
    # multipart with a file attached by reference, the way aiogram posts it
    form = aiohttp.FormData()
    form.add_field("chat_id", str(anna.id))
    form.add_field("photo", "attach://file1")
    form.add_field("file1", b"\x89PNG...", filename="map.png")
    status, body, _ = await raw(http, "sendPhoto", data=form)
    assert status == 200 and body["result"]["photo"][0]["file_size"] == 7
    params = [c.params for c in world.calls_of("sendMessage")]
    assert params[1] == {
        "chat_id": anna.id,
        "text": "123",
        "disable_notification": True,
        "reply_markup": json.loads(markup),
    }
    assert world.calls_of("sendPhoto")[0].params["photo"] == {"input_file": "map.png", "size": 7}


async def test_method_names_are_case_insensitive(world: World, http: aiohttp.ClientSession) -> None:
    status, body, _ = await raw(http, "GETME")
    assert status == 200 and body["result"]["id"] == BOT_ID


async def test_unknown_method_is_404_not_found(bot: Bot, http: aiohttp.ClientSession) -> None:
    status, body, _ = await raw(http, "sendHologram", json={"chat_id": 1})
    assert (status, body) == (404, {"ok": False, "error_code": 404, "description": "Not Found"})
    with pytest.raises(TelegramNotFound, match="Not Found"):
        await bot.send_dice(1)  # in the Bot API, not in the sandbox


async def test_malformed_or_foreign_token_is_401(emulator: Emulator, bot: Bot, http: aiohttp.ClientSession) -> None:
    status, body, _ = await raw(http, "getMe", token="not-a-token")
    assert (status, body["description"]) == (401, "Unauthorized")
    await bot.get_me()  # binds the world to TOKEN
    status, body, _ = await raw(http, "getMe", token="999:another-bot-token")
    assert (status, body["description"]) == (401, "Unauthorized")


async def test_bad_json_body_is_400(http: aiohttp.ClientSession) -> None:
    status, body, _ = await raw(http, "sendMessage", data=b"{not json", headers={"Content-Type": "application/json"})
    assert status == 400 and body["description"].startswith("Bad Request:")


# ---- validation: Telegram's limits with Telegram's words --------------------------------------------------------


async def expect_400(call: Any, description: str, world: World) -> None:
    with pytest.raises(TelegramBadRequest) as caught:
        await call
    assert caught.value.message == f"Bad Request: {description}"
    assert world.calls[-1].status == 400
    assert world.calls[-1].response == {"ok": False, "error_code": 400, "description": f"Bad Request: {description}"}


async def test_callback_data_must_be_1_to_64_bytes(bot: Bot, world: World) -> None:
    anna = world.add_user("Anna")
    await expect_400(bot.send_message(anna.id, "Pick", reply_markup=keyboard("x" * 65)), "BUTTON_DATA_INVALID", world)
    await expect_400(
        bot.send_message(anna.id, "Pick", reply_markup=keyboard("é" * 33)), "BUTTON_DATA_INVALID", world
    )  # 66 bytes in 33 characters
    await expect_400(bot.send_message(anna.id, "Pick", reply_markup=keyboard("")), "BUTTON_DATA_INVALID", world)
    await bot.send_message(anna.id, "Pick", reply_markup=keyboard("x" * 64))
    assert len(world.transcript(anna.id)) == 1


async def test_text_must_be_1_to_4096_characters_after_parsing(bot: Bot, world: World) -> None:
    anna = world.add_user("Anna")
    await expect_400(bot.send_message(anna.id, "x" * 4097), "message is too long", world)
    await expect_400(bot.send_message(anna.id, ""), "message text is empty", world)
    await expect_400(bot.send_message(anna.id, "   "), "message text is empty", world)
    await expect_400(bot.send_message(anna.id, "<b></b>"), "message text is empty", world)
    await bot.send_message(anna.id, "<b>" + "x" * 4096 + "</b>")  # the tags do not count
    sent = await bot.send_message(anna.id, "x" * 4096)
    await expect_400(
        bot.edit_message_text("y" * 4097, chat_id=anna.id, message_id=sent.message_id), "message is too long", world
    )


async def test_caption_must_be_at_most_1024_characters(bot: Bot, world: World) -> None:
    anna = world.add_user("Anna")
    photo = BufferedInputFile(b"jpeg", "boat.jpg")
    await expect_400(bot.send_photo(anna.id, photo, caption="c" * 1025), "message caption is too long", world)
    await bot.send_photo(anna.id, photo, caption="c" * 1024)


async def test_callback_answer_text_must_be_at_most_200_characters(bot: Bot, world: World) -> None:
    anna = world.add_user("Anna")
    sent = await bot.send_message(anna.id, "Pick", reply_markup=keyboard("ok"))
    query_id = await world.user_presses(anna.id, anna.id, sent.message_id, "ok")
    await expect_400(bot.answer_callback_query(query_id, text="t" * 201), "MESSAGE_TOO_LONG", world)
    assert await bot.answer_callback_query(query_id, text="t" * 200) is True


async def test_bad_html_cannot_be_parsed(bot: Bot, world: World) -> None:
    anna = world.add_user("Anna")
    with pytest.raises(TelegramBadRequest, match=r"Bad Request: can.t parse entities: .*<blink>"):
        await bot.send_message(anna.id, "<blink>now</blink>")
    with pytest.raises(TelegramBadRequest, match="can't parse entities"):
        await bot.send_message(anna.id, "Tom & Jerry")
    assert world.transcript(anna.id) == []


async def test_missing_fields_and_wrong_types_are_400_with_the_validators_reason(
    world: World, http: aiohttp.ClientSession
) -> None:
    anna = world.add_user("Anna")
    status, body, _ = await raw(http, "sendMessage", data={"chat_id": str(anna.id)})
    assert (status, body["description"]) == (400, "Bad Request: message text is empty")
    status, body, _ = await raw(http, "sendMessage", data={"text": "hi"})
    assert (status, body["description"]) == (400, "Bad Request: chat_id is empty")
    status, body, _ = await raw(http, "answerCallbackQuery", data={})
    assert status == 400 and "missing required field 'callback_query_id'" in body["description"]
    status, body, _ = await raw(http, "deleteMessage", data={"chat_id": str(anna.id), "message_id": "first"})
    assert status == 400 and "message_id: expected Integer, got String 'first'" in body["description"]
    status, body, _ = await raw(
        http, "sendMessage", data={"chat_id": str(anna.id), "text": "x", "reply_markup": "{broken"}
    )
    assert status == 400 and "reply_markup" in body["description"]
    status, body, _ = await raw(http, "setMyCommands", json={"commands": [{"command": "Start!", "description": "x"}]})
    assert status == 400 and "must be 1-32 of a-z, 0-9 and _" in body["description"]
    assert world.transcript(anna.id) == []


# ---- messages: edits, keyboards, deletions, replies, copies --------------------------------------------------------


async def test_identical_edit_is_not_modified(bot: Bot, world: World) -> None:
    anna = world.add_user("Anna")
    sent = await bot.send_message(anna.id, "<b>Card</b>", reply_markup=keyboard("a"))
    await expect_400(
        bot.edit_message_text("<b>Card</b>", chat_id=anna.id, message_id=sent.message_id, reply_markup=keyboard("a")),
        NOT_MODIFIED.removeprefix("Bad Request: "),
        world,
    )
    await expect_400(
        bot.edit_message_reply_markup(chat_id=anna.id, message_id=sent.message_id, reply_markup=keyboard("a")),
        NOT_MODIFIED.removeprefix("Bad Request: "),
        world,
    )
    # same text, other formatting: modified
    await bot.edit_message_text("<i>Card</i>", chat_id=anna.id, message_id=sent.message_id, reply_markup=keyboard("a"))


async def test_editing_text_without_a_keyboard_removes_the_keyboard(bot: Bot, world: World) -> None:
    anna = world.add_user("Anna")
    sent = await bot.send_message(anna.id, "Order 17", reply_markup=keyboard("pay:17", "cancel:17"))
    edited = await bot.edit_message_text("Order 17: paid", chat_id=anna.id, message_id=sent.message_id)
    assert edited.reply_markup is None and edited.edit_date is not None
    (entry,) = world.transcript(anna.id)
    assert "reply_markup" not in entry
    assert entry["original"]["reply_markup"]["inline_keyboard"][0][1]["callback_data"] == "cancel:17"
    assert [e["text"] for e in entry["edits"]] == ["Order 17: paid"]
    # pressing a removed button is impossible
    with pytest.raises(ValueError, match="no button"):
        await world.user_presses(anna.id, anna.id, sent.message_id, "pay:17")


async def test_edit_reply_markup_replaces_or_removes_only_the_keyboard(bot: Bot, world: World) -> None:
    anna = world.add_user("Anna")
    sent = await bot.send_message(anna.id, "Order 18", reply_markup=keyboard("a"))
    changed = await bot.edit_message_reply_markup(
        chat_id=anna.id, message_id=sent.message_id, reply_markup=keyboard("b")
    )
    assert changed.text == "Order 18" and changed.reply_markup.inline_keyboard[0][0].callback_data == "b"
    removed = await bot.edit_message_reply_markup(chat_id=anna.id, message_id=sent.message_id)
    assert removed.reply_markup is None
    await expect_400(
        bot.edit_message_reply_markup(chat_id=anna.id, message_id=sent.message_id),
        NOT_MODIFIED.removeprefix("Bad Request: "),
        world,
    )


async def test_edits_of_missing_or_foreign_messages_fail(bot: Bot, world: World) -> None:
    anna = world.add_user("Anna")
    await expect_400(bot.edit_message_text("x", chat_id=anna.id, message_id=99), "message to edit not found", world)
    mine = await world.user_sends(anna.id, "hello")
    await expect_400(
        bot.edit_message_text("x", chat_id=anna.id, message_id=mine["message_id"]), "message can't be edited", world
    )
    photo = await bot.send_photo(anna.id, BufferedInputFile(b"x", "a.jpg"), caption="old")
    await expect_400(
        bot.edit_message_text("x", chat_id=anna.id, message_id=photo.message_id),
        "there is no text in the message to edit",
        world,
    )
    recaptioned = await bot.edit_message_caption(chat_id=anna.id, message_id=photo.message_id, caption="new")
    assert recaptioned.caption == "new"


async def test_deleted_messages_stay_in_the_transcript_marked_deleted(bot: Bot, world: World) -> None:
    anna = world.add_user("Anna")
    first = await bot.send_message(anna.id, "one")
    await bot.send_message(anna.id, "two")
    assert await bot.delete_message(anna.id, first.message_id) is True
    await expect_400(bot.delete_message(anna.id, first.message_id), "message to delete not found", world)
    await expect_400(
        bot.edit_message_text("x", chat_id=anna.id, message_id=first.message_id), "message to edit not found", world
    )
    assert [(m["text"], m["deleted"]) for m in world.transcript(anna.id)] == [("one", True), ("two", False)]


async def test_message_ids_count_up_per_chat(bot: Bot, world: World) -> None:
    anna, ben = world.add_user("Anna"), world.add_user("Ben")
    ids = [
        (await bot.send_message(anna.id, "a")).message_id,
        (await bot.send_message(ben.id, "b")).message_id,
        (await world.user_sends(anna.id, "c"))["message_id"],
        (await bot.send_message(anna.id, "d")).message_id,
    ]
    assert ids == [1, 1, 2, 3]


async def test_bot_reply_resolves_the_replied_to_message(bot: Bot, world: World) -> None:
    anna = world.add_user("Anna")
    question = await world.user_sends(anna.id, "Is there a pickup?")
    answer = await bot.send_message(anna.id, "Yes", reply_parameters=ReplyParameters(message_id=question["message_id"]))
    assert answer.reply_to_message is not None
    assert answer.reply_to_message.text == "Is there a pickup?"
    assert answer.reply_to_message.from_user.id == anna.id
    await expect_400(
        bot.send_message(anna.id, "?", reply_parameters=ReplyParameters(message_id=404)),
        "message to be replied not found",
        world,
    )
    lenient = await bot.send_message(
        anna.id, "ok", reply_parameters=ReplyParameters(message_id=404, allow_sending_without_reply=True)
    )
    assert lenient.reply_to_message is None
    assert world.transcript(anna.id)[1]["reply_to_message_id"] == question["message_id"]


async def test_copy_and_forward_put_the_content_into_another_chat(bot: Bot, world: World) -> None:
    anna = world.add_user("Anna")
    group = world.add_group("Operators", members=[])
    question = await world.user_sends(anna.id, "Can I bring a dog?")
    copied = await bot.copy_message(group.id, anna.id, question["message_id"])
    forwarded = await bot.forward_message(group.id, anna.id, question["message_id"])
    assert forwarded.forward_origin is not None and forwarded.forward_origin.sender_user.id == anna.id
    assert forwarded.text == "Can I bring a dog?"
    transcript = world.transcript(group.id)
    assert [m["message_id"] for m in transcript] == [copied.message_id, forwarded.message_id]
    assert transcript[0]["text"] == "Can I bring a dog?" and "forward_origin" not in transcript[0]
    await expect_400(bot.copy_message(group.id, anna.id, 77), "message to copy not found", world)


async def test_reply_keyboards_are_remembered_for_the_chat(bot: Bot, world: World) -> None:
    anna = world.add_user("Anna")
    markup = ReplyKeyboardMarkup(
        keyboard=[[KeyboardButton(text="Share phone", request_contact=True)]], resize_keyboard=True
    )
    sent = await bot.send_message(anna.id, "Your phone?", reply_markup=markup)
    assert sent.reply_markup is None  # only inline keyboards belong to the message
    assert world.chat(anna.id).reply_keyboard["keyboard"][0][0]["request_contact"] is True
    shared = await world.user_shares_contact(anna.id, phone="+37255512345")
    assert shared["contact"] == {"phone_number": "+37255512345", "first_name": "Anna", "user_id": anna.id}


# ---- files -------------------------------------------------------------------------------------------------------


async def test_photos_and_documents_get_file_ids_that_can_be_sent_again(bot: Bot, world: World) -> None:
    anna, ben = world.add_user("Anna"), world.add_user("Ben")
    photo = await bot.send_photo(anna.id, BufferedInputFile(b"12345", "pier.jpg"), caption="<b>Pier 3</b>")
    assert photo.caption == "Pier 3" and photo.caption_entities[0].type == "bold"
    again = await bot.send_photo(ben.id, photo.photo[-1].file_id)
    assert again.photo[-1].file_id == photo.photo[-1].file_id
    document = await bot.send_document(anna.id, BufferedInputFile(b"%PDF-1.4", "ticket-17.pdf"))
    assert (document.document.file_name, document.document.file_size, document.document.mime_type) == (
        "ticket-17.pdf",
        8,
        "application/pdf",
    )
    await expect_400(bot.send_document(anna.id, "no-such-file-id"), "wrong file identifier/HTTP URL specified", world)
    by_url = await bot.send_photo(anna.id, "https://example.org/boat.jpg")
    assert by_url.photo[0].file_id


# ---- chats, members, blocking ------------------------------------------------------------------------------------


async def test_sending_to_a_user_who_blocked_the_bot_is_403(bot: Bot, world: World) -> None:
    anna = world.add_user("Anna")
    world.block_bot(anna.id)
    with pytest.raises(TelegramForbiddenError) as caught:
        await bot.send_message(anna.id, "Reminder")
    assert caught.value.message == "Forbidden: bot was blocked by the user"
    assert world.calls[-1].status == 403
    updates = await bot.get_updates()
    assert updates[-1].my_chat_member.new_chat_member.status == "kicked"
    world.block_bot(anna.id, blocked=False)
    await bot.send_message(anna.id, "Welcome back")


async def test_unknown_chat_is_400_chat_not_found(bot: Bot, world: World) -> None:
    await expect_400(bot.send_message(424242, "hi"), "chat not found", world)
    await expect_400(bot.get_chat(-100999), "chat not found", world)


async def test_bot_outside_a_group_gets_403(bot: Bot, world: World) -> None:
    group = world.add_group("Organisers", bot_status="left", supergroup=False)
    with pytest.raises(TelegramForbiddenError, match=r"Forbidden: bot is not a member of the group chat$"):
        await bot.send_message(group.id, "hi")
    supergroup = world.add_group("Operators")
    await bot.get_me()  # the world learns the bot's id from its token
    world.set_member(BOT_ID, supergroup.id, member=False)
    with pytest.raises(TelegramForbiddenError, match="bot is not a member of the supergroup chat"):
        await bot.send_message(supergroup.id, "hi")


async def test_get_chat_and_chat_member(bot: Bot, world: World) -> None:
    anna, ben = world.add_user("Anna", username="anna_t"), world.add_user("Ben")
    group = world.add_group("Operators", members=[anna.id], forum=True)
    info = await bot.get_chat(group.id)
    assert (info.id, info.type, info.title, info.is_forum) == (group.id, "supergroup", "Operators", True)
    private = await bot.get_chat(anna.id)
    assert (private.type, private.first_name, private.username) == ("private", "Anna", "anna_t")
    assert (await bot.get_chat_member(group.id, anna.id)).status == "member"
    assert (await bot.get_chat_member(group.id, ben.id)).status == "left"
    assert (await bot.get_chat_member(group.id, BOT_ID)).status == "administrator"
    world.set_status(anna.id, group.id, "kicked")
    assert (await bot.get_chat_member(group.id, anna.id)).status == "kicked"
    world.set_status(ben.id, group.id, "administrator")
    assert (await bot.get_chat_member(group.id, ben.id)).status == "administrator"
    await expect_400(bot.get_chat_member(group.id, 5), "user not found", world)


async def test_commands_are_kept_per_scope_and_language(bot: Bot) -> None:
    commands = [BotCommand(command="start", description="Start"), BotCommand(command="orders", description="Mine")]
    assert await bot.set_my_commands(commands) is True
    await bot.set_my_commands(commands[:1], scope=BotCommandScopeAllPrivateChats(), language_code="de")
    assert [c.command for c in await bot.get_my_commands()] == ["start", "orders"]
    assert [
        c.command for c in await bot.get_my_commands(scope=BotCommandScopeAllPrivateChats(), language_code="de")
    ] == ["start"]
    assert await bot.get_my_commands(language_code="et") == []
    assert await bot.delete_my_commands() is True
    assert await bot.get_my_commands() == []


async def test_group_privacy_mode_shows_the_bot_only_commands_and_replies(bot: Bot, world: World) -> None:
    anna = world.add_user("Anna")
    await bot.get_me()
    group = world.add_group("Organisers", members=[anna.id], bot_status="member")
    card = await bot.send_message(group.id, "Booking 17: confirm?")
    await world.user_sends(anna.id, "chatting among ourselves", chat_id=group.id)
    await world.user_sends(anna.id, "/orders", chat_id=group.id)
    await world.user_sends(anna.id, "/orders@other_bot", chat_id=group.id)
    await world.user_sends(anna.id, "yes", chat_id=group.id, reply_to=card.message_id)
    updates = await bot.get_updates()
    texts = [u.message.text for u in updates if u.message]
    assert texts == ["/orders", "yes"]
    assert updates[-1].message.reply_to_message.message_id == card.message_id
    assert len(world.transcript(group.id)) == 5  # the group itself saw everything


# ---- callback queries ----------------------------------------------------------------------------------------------


async def test_callback_queries_are_answered_once(bot: Bot, world: World) -> None:
    anna = world.add_user("Anna")
    sent = await bot.send_message(anna.id, "Cancel order 17?", reply_markup=keyboard("cancel:17"))
    query_id = await world.user_presses(anna.id, anna.id, sent.message_id, "cancel:17")
    (update,) = await bot.get_updates()
    assert update.callback_query.id == query_id and update.callback_query.data == "cancel:17"
    assert update.callback_query.message.message_id == sent.message_id
    assert await bot.answer_callback_query(query_id, text="Cancelled", show_alert=True) is True
    await expect_400(bot.answer_callback_query(query_id), QUERY_TOO_OLD.removeprefix("Bad Request: "), world)
    await expect_400(bot.answer_callback_query("nonsense"), QUERY_TOO_OLD.removeprefix("Bad Request: "), world)
    assert [(a["text"], a["show_alert"], a["data"]) for a in world.callback_answers] == [
        ("Cancelled", True, "cancel:17")
    ]
    assert world.alerts(0)[0]["text"] == "Cancelled"


# ---- forum topics --------------------------------------------------------------------------------------------------


async def test_forum_topics_lifecycle(bot: Bot, world: World) -> None:
    anna = world.add_user("Anna")
    forum = world.add_group("Operators", members=[anna.id], forum=True)
    topic = await bot.create_forum_topic(forum.id, "Order 17")
    assert topic.name == "Order 17" and topic.message_thread_id > 0
    inside = await bot.send_message(forum.id, "Refund due", message_thread_id=topic.message_thread_id)
    assert inside.message_thread_id == topic.message_thread_id and inside.is_topic_message
    user_reply = await world.user_sends(anna.id, "on it", chat_id=forum.id, reply_to=inside.message_id)
    assert user_reply["message_thread_id"] == topic.message_thread_id
    assert await bot.edit_forum_topic(forum.id, topic.message_thread_id, name="Order 17 (refund)") is True
    await expect_400(
        bot.edit_forum_topic(forum.id, topic.message_thread_id, name="Order 17 (refund)"), "TOPIC_NOT_MODIFIED", world
    )
    assert await bot.close_forum_topic(forum.id, topic.message_thread_id) is True
    await expect_400(
        bot.send_message(forum.id, "late", message_thread_id=topic.message_thread_id), "TOPIC_CLOSED", world
    )
    assert await bot.reopen_forum_topic(forum.id, topic.message_thread_id) is True
    assert await bot.delete_forum_topic(forum.id, topic.message_thread_id) is True
    await expect_400(
        bot.send_message(forum.id, "gone", message_thread_id=topic.message_thread_id), "message thread not found", world
    )
    kinds = [
        next(
            k
            for k in ("forum_topic_created", "forum_topic_edited", "forum_topic_closed", "forum_topic_reopened", "text")
            if k in m
        )
        for m in world.transcript(forum.id)
    ]
    assert kinds == [
        "forum_topic_created",
        "text",
        "text",
        "forum_topic_edited",
        "forum_topic_closed",
        "forum_topic_reopened",
    ]
    assert all(m["deleted"] for m in world.transcript(forum.id))
    plain = world.add_group("Plain")
    await expect_400(bot.create_forum_topic(plain.id, "x"), "the chat is not a forum", world)


# ---- invoices --------------------------------------------------------------------------------------------------------


async def test_invoices_need_a_provider_token_except_in_stars(bot: Bot, world: World) -> None:
    anna = world.add_user("Anna")
    prices = [LabeledPrice(label="Adult", amount=4500), LabeledPrice(label="Child", amount=2500)]
    await expect_400(
        bot.send_invoice(anna.id, "Islands cruise", "2 tickets", "order:17", "EUR", prices),
        "PAYMENT_PROVIDER_INVALID",
        world,
    )
    invoice = await bot.send_invoice(
        anna.id, "Islands cruise", "2 tickets", "order:17", "EUR", prices, provider_token="sandbox-provider"
    )
    assert (invoice.invoice.total_amount, invoice.invoice.currency) == (7000, "EUR")
    stars = await bot.send_invoice(
        anna.id, "Islands cruise", "2 tickets", "order:18", "XTR", [LabeledPrice(label="Ticket", amount=50)]
    )
    assert stars.invoice.total_amount == 50


# ---- membership ------------------------------------------------------------------------------------------------------


async def test_joining_and_leaving_a_group_are_service_messages(bot: Bot, world: World) -> None:
    anna = world.add_user("Anna")
    group = world.add_group("Operators")
    world.set_member(anna.id, group.id, member=True)
    await world.user_sends(anna.id, "hi all", chat_id=group.id)
    world.set_member(anna.id, group.id, member=False)
    with pytest.raises(ValueError, match="not a member"):
        await world.user_sends(anna.id, "still here?", chat_id=group.id)
    updates = await bot.get_updates()  # chat_member is not in the default allowed_updates, as in Telegram
    assert [
        u.message.new_chat_members[0].id
        if u.message.new_chat_members
        else u.message.left_chat_member.id
        if u.message.left_chat_member
        else u.message.text
        for u in updates
    ] == [anna.id, "hi all", anna.id]
    world.set_member(BOT_ID, group.id, member=False)
    (update,) = await bot.get_updates(offset=updates[-1].update_id + 1)
    assert update.my_chat_member.new_chat_member.status == "left"


async def test_require_start_refuses_users_who_never_wrote(emulator: Emulator, bot: Bot) -> None:
    world = emulator.world
    world.require_start = True
    anna = world.add_user("Anna")
    with pytest.raises(TelegramForbiddenError, match="bot can't initiate conversation with a user"):
        await bot.send_message(anna.id, "Hello?")
    await world.user_sends(anna.id, "/start")
    await bot.send_message(anna.id, "Hello!")
