"""The request validator catches every rule Telegram enforces, and the recording session applies it to real calls."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.enums import ParseMode
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError
from aiogram.methods import SendMessage
from aiogram.types import BotCommand, BotCommandScopeAllPrivateChats, BufferedInputFile
from aiogram.utils.keyboard import InlineKeyboardBuilder

from sandbox import spec as spec_module
from sandbox.spec import SpecNotFound, load_spec, validate_request
from sandbox.text import parse_html
from tests.telegram.recorder import BOT_ID, RecordingSession, forbidden

TOKEN = "123456:AAE_test-token-for-tripdesk-000000"


def button(**fields: Any) -> dict[str, Any]:
    return {"text": "Go", **fields}


def message_with(*buttons: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"chat_id": 1, "text": "Pick one", "reply_markup": {"inline_keyboard": [list(buttons)]}, **extra}


def html(text: str) -> dict[str, Any]:
    return {"chat_id": 1, "text": text, "parse_mode": "HTML"}


def assert_one(errors: list[str], *fragments: str) -> None:
    assert len(errors) == 1, errors
    for fragment in fragments:
        assert fragment in errors[0], errors


# ---- the spec file ---------------------------------------------------------------------------------------------------


def test_spec_is_bot_api_10_1() -> None:
    spec = load_spec()
    assert spec.version == "Bot API 10.1"
    assert "sendMessage" in spec.methods and "InlineKeyboardButton" in spec.types


def test_missing_spec_is_an_error_not_a_skip(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.setenv(spec_module.SPEC_ENV, str(tmp_path / "nope.json"))
    with pytest.raises(SpecNotFound, match="TRIPDESK_BOT_API_SPEC"):
        spec_module.spec_path()


def test_spec_path_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(spec_module.SPEC_ENV, str(spec_module.DEFAULT_SPEC_PATH))
    assert spec_module.spec_path() == spec_module.DEFAULT_SPEC_PATH


# ---- methods and fields ----------------------------------------------------------------------------------------------


def test_valid_requests_pass() -> None:
    assert validate_request("sendMessage", {"chat_id": 1, "text": "Hi"}) == []
    assert validate_request("sendMessage", {"chat_id": "@channel", "text": "Hi"}) == []
    assert (
        validate_request("sendMessage", message_with(button(callback_data="x" * 64), button(url="https://a.b"))) == []
    )
    assert validate_request("answerCallbackQuery", {"callback_query_id": "7", "text": "x" * 200}) == []
    assert validate_request("deleteMessage", {"chat_id": 1, "message_id": 3}) == []
    assert validate_request("editMessageText", {"chat_id": 1, "message_id": 3, "text": "New"}) == []
    assert validate_request("editMessageText", {"inline_message_id": "abc", "text": "New"}) == []
    assert validate_request("sendPhoto", {"chat_id": 1, "photo": "file-id", "caption": "c" * 1024}) == []
    assert (
        validate_request("sendLocation", {"chat_id": 1, "latitude": 59, "longitude": 24.7}) == []
    )  # Integer is a Float


def test_unknown_method() -> None:
    assert_one(validate_request("sendMesage", {"chat_id": 1, "text": "x"}), "no such method", "sendMesage")
    assert_one(validate_request("sendmessage", {"chat_id": 1, "text": "x"}), "did you mean sendMessage")


def test_missing_required_field() -> None:
    assert_one(validate_request("sendMessage", {"text": "x"}), "missing required field 'chat_id'")
    assert_one(validate_request("answerCallbackQuery", {}), "callback_query_id")


def test_conditionally_required_fields() -> None:
    assert_one(validate_request("editMessageText", {"text": "x"}), "'chat_id'", "'message_id'", "'inline_message_id'")
    assert_one(validate_request("editMessageText", {"chat_id": 1, "text": "x"}), "'message_id'")
    assert validate_request("editMessageReplyMarkup", {"chat_id": 1, "message_id": 3}) == []  # the markup is optional
    assert_one(validate_request("editMessageText", {"chat_id": 1, "message_id": 3}), "'text'")


def test_unknown_field() -> None:
    assert_one(validate_request("sendMessage", {"chat_id": 1, "text": "x", "colour": "red"}), "unknown field 'colour'")
    assert_one(
        validate_request("sendMessage", message_with(button(callback_data="a", note="n"))), "unknown field 'note'"
    )


def test_wrong_types() -> None:
    assert_one(validate_request("sendMessage", {"chat_id": 1.5, "text": "x"}), "expected Integer or String, got Float")
    assert_one(validate_request("sendMessage", {"chat_id": True, "text": "x"}), "expected Integer or String")
    assert_one(validate_request("deleteMessage", {"chat_id": 1, "message_id": "3"}), "message_id: expected Integer")
    assert_one(
        validate_request("sendMessage", {"chat_id": 1, "text": "x", "disable_notification": "yes"}),
        "expected Boolean",
    )
    assert_one(validate_request("sendMessage", {"chat_id": 1, "text": 42}), "text: expected String")
    assert_one(validate_request("sendMessage", message_with(button(callback_data=5))), "callback_data: expected String")
    assert_one(
        validate_request("sendMessage", {"chat_id": 1, "text": "x", "reply_markup": {"inline_keyboard": [button()]}}),
        "inline_keyboard[0]: expected Array of InlineKeyboardButton",
    )
    assert_one(validate_request("setMyCommands", {"commands": {"command": "a"}}), "expected Array of BotCommand")


def test_unions_and_subtypes() -> None:
    photo = BufferedInputFile(b"\x89PNG", filename="p.png")
    assert validate_request("sendPhoto", {"chat_id": 1, "photo": photo}) == []
    assert_one(validate_request("sendPhoto", {"chat_id": 1, "photo": 5}), "expected InputFile or String")
    commands = [{"command": "start", "description": "Main menu"}]
    assert validate_request("setMyCommands", {"commands": commands, "scope": {"type": "all_private_chats"}}) == []
    assert_one(
        validate_request("setMyCommands", {"commands": commands, "scope": {"type": "everyone"}}),
        "BotCommandScope with unknown type 'everyone'",
    )
    assert_one(
        validate_request("setMyCommands", {"commands": commands, "scope": {"type": "chat"}}),
        "scope: missing required field 'chat_id'",
    )
    remove = {"chat_id": 1, "text": "x", "reply_markup": {"remove_keyboard": True}}
    assert validate_request("sendMessage", remove) == []


# ---- Telegram's limits -----------------------------------------------------------------------------------------------


def test_callback_data_is_1_to_64_bytes_of_utf8() -> None:
    assert_one(validate_request("sendMessage", message_with(button(callback_data="x" * 65))), "65 bytes", "1-64")
    assert_one(validate_request("sendMessage", message_with(button(callback_data="я" * 33))), "66 bytes")
    assert_one(validate_request("sendMessage", message_with(button(callback_data=""))), "0 bytes")
    assert validate_request("sendMessage", message_with(button(callback_data="я" * 32))) == []


def test_text_is_1_to_4096_characters_after_parsing() -> None:
    assert validate_request("sendMessage", {"chat_id": 1, "text": "x" * 4096}) == []
    assert_one(validate_request("sendMessage", {"chat_id": 1, "text": "x" * 4097}), "4097 characters", "1-4096")
    assert_one(validate_request("sendMessage", {"chat_id": 1, "text": ""}), "0 characters")
    assert_one(validate_request("sendMessage", {"chat_id": 1, "text": " \n "}), "0 characters")
    # Counted after the markup is parsed: tags are free, an entity is one character.
    assert validate_request("sendMessage", html("<b>" + "x" * 4095 + "</b>&amp;")) == []
    assert_one(validate_request("sendMessage", html("<b>" + "x" * 4096 + "</b>&amp;")), "4097 characters")
    assert_one(validate_request("sendMessage", html("<b> </b>")), "0 characters")
    assert_one(validate_request("editMessageText", {"chat_id": 1, "message_id": 2, "text": "y" * 4097}), "4097")


def test_caption_is_0_to_1024_characters() -> None:
    assert_one(validate_request("sendPhoto", {"chat_id": 1, "photo": "f", "caption": "c" * 1025}), "1025", "0-1024")


def test_callback_answer_is_0_to_200_characters() -> None:
    errors = validate_request("answerCallbackQuery", {"callback_query_id": "7", "text": "x" * 201})
    assert_one(errors, "answerCallbackQuery.text", "201 characters", "0-200")


@pytest.mark.parametrize(
    ("command", "description", "fragment"),
    [
        ("Start", "Main menu", "'Start' - must be 1-32 of a-z, 0-9 and _"),
        ("my-orders", "Orders", "'my-orders'"),
        ("x" * 33, "Too long", "33 characters"),
        ("", "Empty", "0 characters"),
        ("start", "", "description: 0 characters - must be 1-256"),
        ("start", "d" * 257, "257 characters"),
    ],
)
def test_bad_bot_command(command: str, description: str, fragment: str) -> None:
    errors = validate_request("setMyCommands", {"commands": [{"command": command, "description": description}]})
    assert errors and any(fragment in e for e in errors), errors


def test_inline_button_has_exactly_one_action() -> None:
    errors = validate_request("sendMessage", message_with(button(callback_data="a", url="https://a.b")))
    assert_one(errors, "exactly one action", "callback_data, url")
    assert_one(validate_request("sendMessage", message_with(button())), "exactly one action", "found none")
    assert validate_request("sendMessage", message_with(button(callback_data="a", style="danger"))) == []


def test_parse_mode_must_exist() -> None:
    assert_one(validate_request("sendMessage", {"chat_id": 1, "text": "x", "parse_mode": "Markdown3"}), "parse mode")


# ---- HTML ------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("<b>x", "end tag corresponding to start tag <b>"),
        ("x</b>", "unexpected end tag </b>"),
        ("<b><i>x</b></i>", "expected </i>, found </b>"),
        ("1 < 2", "unescaped '<'"),
        ("a<b", "malformed tag"),
        ("Tom & Jerry", "unescaped '&'"),
        ("&nbsp;", "unescaped '&'"),
        ("line<br>break", "unsupported start tag <br>"),
        ("<div>x</div>", "unsupported start tag <div>"),
        ("<span>x</span>", 'class="tg-spoiler"'),
        ("<a>x</a>", "<a> at position 0 has no href"),
        ('<a href="x">y', "end tag"),
        ("<tg-emoji>x</tg-emoji>", "emoji-id"),
    ],
)
def test_malformed_html_is_refused(text: str, fragment: str) -> None:
    errors = validate_request("sendMessage", html(text))
    assert errors and any("can't parse entities" in e and fragment in e for e in errors), errors


def test_html_outside_html_mode_is_just_text() -> None:
    assert validate_request("sendMessage", {"chat_id": 1, "text": "1 < 2 & <b>"}) == []


@pytest.mark.parametrize(
    "text",
    [
        "<b>bold</b> <strong>s</strong> <i>i</i> <em>e</em> <u>u</u> <ins>i</ins> "
        "<s>s</s> <strike>s</strike> <del>d</del>",
        '<span class="tg-spoiler">x</span> <tg-spoiler>y</tg-spoiler>',
        '<a href="https://example.org/?a=1&amp;b=2">link</a> <a href="tg://user?id=1">me</a>',
        '<code>x</code> <pre>y</pre> <pre><code class="language-python">z</code></pre>',
        "<blockquote>q</blockquote> <blockquote expandable>e</blockquote>",
        '<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji>',
        "1 &lt; 2 &amp;&amp; 3 &gt; 2 &quot;q&quot; &#8364; &#x20AC; a > b",
        "<B>upper</B> <b >spaced</b >",
        "<b>bold <i>nested <u>deep</u></i></b>",
    ],
)
def test_valid_html_is_accepted(text: str) -> None:
    assert validate_request("sendMessage", html(text)) == []


def test_html_is_parsed_into_text_and_entities() -> None:
    parsed = parse_html('<b>Hi 😀 <i>you</i></b> &amp; <a href="https://x.org">x</a>')
    assert parsed.errors == []
    assert parsed.text == "Hi 😀 you & x"
    assert parsed.entities == [
        {"type": "bold", "offset": 0, "length": 9},  # offsets in UTF-16 units: the emoji counts 2
        {"type": "italic", "offset": 6, "length": 3},
        {"type": "text_link", "offset": 12, "length": 1, "url": "https://x.org"},
    ]


# ---- through a real Bot and the recording session ------------------------------------------------------------------


@pytest.fixture
async def recorder() -> RecordingSession:
    return RecordingSession()


@pytest.fixture
async def bot(recorder: RecordingSession) -> AsyncIterator[Bot]:
    bot = Bot(token=TOKEN, session=recorder, default=DefaultBotProperties(parse_mode=ParseMode.HTML))
    yield bot
    await bot.session.close()


async def test_a_real_keyboard_message_is_valid(bot: Bot, recorder: RecordingSession) -> None:
    kb = InlineKeyboardBuilder()
    kb.button(text="Book", callback_data="k:s:17:0")
    kb.button(text="Website", url="https://example.org")
    kb.adjust(1)

    message = await bot.send_message(555, "<b>Islands cruise</b> &amp; more", reply_markup=kb.as_markup())

    (request,) = recorder.requests
    assert request.method == "sendMessage"
    assert request.params == {
        "chat_id": 555,
        "text": "<b>Islands cruise</b> &amp; more",
        "parse_mode": "HTML",
        "reply_markup": {
            "inline_keyboard": [
                [{"text": "Book", "callback_data": "k:s:17:0"}],
                [{"text": "Website", "url": "https://example.org"}],
            ]
        },
    }
    assert recorder.violations == []
    assert message.message_id == 1 and message.chat.id == 555 and message.from_user.id == BOT_ID
    assert message.text == "Islands cruise & more"
    assert message.html_text == "<b>Islands cruise</b> &amp; more"
    assert message.reply_markup.inline_keyboard[0][0].callback_data == "k:s:17:0"


async def test_serialization_matches_aiohttp_form_data(bot: Bot, recorder: RecordingSession) -> None:
    kb = InlineKeyboardBuilder()
    kb.button(text="Yes", callback_data="y")
    method = SendMessage(chat_id=9, text="Hi", reply_markup=kb.as_markup(), disable_notification=False)

    form = AiohttpSession().build_form_data(bot, method)
    posted = {opts["name"]: value for opts, _headers, value in form._fields}
    params = recorder.serialize(bot, method)

    assert set(posted) == set(params)
    for key, value in posted.items():
        assert params[key] == (value if isinstance(params[key], str) else json.loads(value)), key


async def test_a_violation_is_recorded_and_raised_like_telegram(bot: Bot, recorder: RecordingSession) -> None:
    kb = InlineKeyboardBuilder()
    kb.button(text="Too long", callback_data="x" * 65)

    with pytest.raises(TelegramBadRequest, match="65 bytes"):
        await bot.send_message(1, "Hi", reply_markup=kb.as_markup())

    assert len(recorder.violations) == 1
    assert recorder.requests[0].violations == recorder.violations


async def test_empty_text_never_reaches_telegram(bot: Bot, recorder: RecordingSession) -> None:
    with pytest.raises(TelegramBadRequest):
        await bot.send_message(1, "")  # aiogram drops the empty field: Telegram sees no text at all
    assert "missing required field 'text'" in recorder.violations[0]


async def test_an_unknown_argument_is_an_unknown_field(bot: Bot, recorder: RecordingSession) -> None:
    with pytest.raises(TelegramBadRequest):
        await bot(SendMessage(chat_id=1, text="x", colour="red"))
    assert "unknown field 'colour'" in recorder.violations[0]


async def test_bad_html_through_the_bot(bot: Bot, recorder: RecordingSession) -> None:
    with pytest.raises(TelegramBadRequest, match="can't parse entities"):
        await bot.send_message(1, "Price < 10 EUR")
    with pytest.raises(TelegramBadRequest, match="can't parse entities"):
        await bot.send_message(1, "<b>unclosed")
    assert len(recorder.violations) == 2


async def test_commands_through_the_bot(bot: Bot, recorder: RecordingSession) -> None:
    assert await bot.set_my_commands(
        [BotCommand(command="start", description="Main menu")],
        scope=BotCommandScopeAllPrivateChats(),
        language_code="en",
    )
    with pytest.raises(TelegramBadRequest):
        await bot.set_my_commands([BotCommand(command="Start", description="x")])
    assert len(recorder.violations) == 1


async def test_get_me_and_answers(bot: Bot, recorder: RecordingSession) -> None:
    me = await bot.get_me()
    assert (me.id, me.is_bot, me.username, me.first_name) == (BOT_ID, True, "tripdesk_test_bot", "Tripdesk")
    assert await bot.answer_callback_query("q1", text="Saved") is True
    with pytest.raises(TelegramBadRequest, match="query is too old"):
        await bot.answer_callback_query("q1")  # a query is answered once
    assert recorder.violations == []


async def test_edits_behave_like_telegram(bot: Bot, recorder: RecordingSession) -> None:
    kb = InlineKeyboardBuilder()
    kb.button(text="A", callback_data="a")
    sent = await bot.send_message(7, "One", reply_markup=kb.as_markup())

    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_text("One", chat_id=7, message_id=sent.message_id, reply_markup=kb.as_markup())
    edited = await bot.edit_message_text("One", chat_id=7, message_id=sent.message_id)  # drops the keyboard
    assert edited.reply_markup is None and edited.edit_date is not None
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_reply_markup(chat_id=7, message_id=sent.message_id)
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await bot.edit_message_text("Two", chat_id=7, message_id=99)
    assert await bot.delete_message(7, sent.message_id) is True
    with pytest.raises(TelegramBadRequest, match="message to delete not found"):
        await bot.delete_message(7, sent.message_id)
    assert (await bot.send_message(7, "Next")).message_id == sent.message_id + 1
    assert (await bot.send_message(8, "Other chat")).message_id == 1
    assert recorder.violations == []


async def test_injected_failures(bot: Bot, recorder: RecordingSession) -> None:
    recorder.fail_next("sendMessage", forbidden())
    with pytest.raises(TelegramForbiddenError, match="blocked"):
        await bot.send_message(1, "x")
    assert (await bot.send_message(1, "x")).text == "x"
    assert isinstance(recorder.requests[0].error, TelegramForbiddenError)
    with pytest.raises(ValueError, match="not a Bot API method"):
        recorder.fail_next("sendMesage", forbidden())


async def test_photo_upload_is_validated_as_an_input_file(bot: Bot, recorder: RecordingSession) -> None:
    message = await bot.send_photo(1, BufferedInputFile(b"\x89PNG", filename="t.png"), caption="<i>Ticket</i>")
    assert message.photo and message.caption == "Ticket"
    assert isinstance(recorder.requests[0].params["photo"], BufferedInputFile)
    with pytest.raises(TelegramBadRequest, match="1025 characters"):
        await bot.send_photo(1, "file-id", caption="c" * 1025)


def test_the_vendored_spec_matches_shared() -> None:
    """sandbox/bot-api.json is a copy of shared/telegram/bot-api.json; they must not drift apart."""
    import hashlib
    from pathlib import Path

    from sandbox.spec import DEFAULT_SPEC_PATH

    shared = Path(__file__).resolve().parents[3] / "shared" / "telegram" / "bot-api.json"
    if not shared.exists():
        pytest.skip(f"no shared/ beside the repository ({shared})")
    digest = [hashlib.sha256(p.read_bytes()).hexdigest() for p in (DEFAULT_SPEC_PATH, shared)]
    assert digest[0] == digest[1], "copy shared/telegram/bot-api.json to sandbox/bot-api.json"
