"""Inline mode in the emulator (issue 15): a simulated user's ``@bot words`` becomes an ``inline_query`` update, the
bot's ``answerInlineQuery`` is validated (spec types, then Telegram's own rules: once, at most 50 results, unique
ids) and kept, a picked result is sent into the chat "via @bot"; ``copy_text`` and ``switch_inline_query_chosen_chat``
buttons pass the spec. Through the HTTP test API as well."""

from __future__ import annotations

import aiohttp
from aiogram import Bot
from aiogram.types import (
    CopyTextButton,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InputTextMessageContent,
    SwitchInlineQueryChosenChat,
)

from sandbox.errors import QUERY_TOO_OLD
from sandbox.world import World
from tests.sandbox.test_emulator import bot, emulator, expect_400, http, world  # noqa: F401  (the fixtures)

LINK = "https://t.me/tripdesk_sandbox_bot?start=ev-kihnu"


def article(result_id: str, title: str = "Kihnu island day") -> InlineQueryResultArticle:
    return InlineQueryResultArticle(
        id=result_id,
        title=title,
        description="Kihnu · Sat, Dec 12, 09:00",
        input_message_content=InputTextMessageContent(message_text=f"<b>{title}</b>\nA day on the island"),
        reply_markup=InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text="Open", url=LINK)]]),
    )


async def test_an_inline_query_is_answered_once_and_a_result_is_sent_via_the_bot(bot: Bot, world: World) -> None:
    anna = world.add_user("Anna", language_code="de")
    query_id = await world.user_inline_query(anna.id, "kihnu " * 100, chat_id=anna.id)
    (update,) = await bot.get_updates()
    assert update.inline_query.id == query_id and len(update.inline_query.query) == 256  # cut as Telegram cuts
    assert update.inline_query.from_user.language_code == "de" and update.inline_query.chat_type == "sender"
    assert world.inline_answer(query_id) is None

    assert await bot.answer_inline_query(query_id, [article("7")], cache_time=30, is_personal=True)
    answer = world.inline_answer(query_id)
    assert answer["is_personal"] is True and [r["id"] for r in answer["results"]] == ["7"]
    await expect_400(bot.answer_inline_query(query_id, []), QUERY_TOO_OLD.removeprefix("Bad Request: "), world)
    await expect_400(bot.answer_inline_query("nonsense", []), QUERY_TOO_OLD.removeprefix("Bad Request: "), world)

    message = await world.user_chooses_result(query_id, "7", anna.id)
    assert message["text"] == "Kihnu island day\nA day on the island"
    assert message["entities"][0]["type"] == "bold" and message["via_bot"]["id"] == world.bot.id
    assert message["reply_markup"]["inline_keyboard"][0][0]["url"] == LINK
    kinds = [next(k for k in u if k != "update_id") for u in world.bot.updates]
    assert "chosen_inline_result" in kinds and "message" in kinds


async def test_telegram_s_rules_for_the_results(bot: Bot, world: World) -> None:
    anna = world.add_user("Anna")
    duplicate = await world.user_inline_query(anna.id, "x")
    await expect_400(bot.answer_inline_query(duplicate, [article("1"), article("1")]), "RESULT_ID_DUPLICATE", world)
    too_many = await world.user_inline_query(anna.id, "y")
    many = [article(str(i)) for i in range(51)]
    await expect_400(bot.answer_inline_query(too_many, many), "RESULTS_TOO_MUCH", world)
    long_id = await world.user_inline_query(anna.id, "z")
    await expect_400(bot.answer_inline_query(long_id, [article("9" * 65)]), "RESULT_ID_INVALID", world)
    assert world.inline_answer(duplicate) is None  # a refused answer is no answer: it may be given again
    assert await bot.answer_inline_query(duplicate, [article("1")])


async def test_copy_text_and_chosen_chat_buttons_pass_the_spec(bot: Bot, world: World) -> None:
    anna = world.add_user("Anna")
    chosen = SwitchInlineQueryChosenChat(query="Kihnu", allow_user_chats=True, allow_group_chats=True)
    markup = InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text="Copy code", copy_text=CopyTextButton(text="TKT-4F7Q"))],
            [InlineKeyboardButton(text="Share", switch_inline_query_chosen_chat=chosen)],
        ]
    )
    sent = await bot.send_message(anna.id, "Your ticket", reply_markup=markup)
    rows = world.message(anna.id, sent.message_id).data["reply_markup"]["inline_keyboard"]
    assert rows[0][0]["copy_text"] == {"text": "TKT-4F7Q"}
    assert rows[1][0]["switch_inline_query_chosen_chat"]["query"] == "Kihnu"


async def test_the_test_api_plays_an_inline_query(bot: Bot, world: World, http: aiohttp.ClientSession) -> None:
    anna = world.add_user("Anna")
    async with http.post("/sandbox/api/inline", json={"user_id": anna.id, "query": "kihnu"}) as resp:
        assert resp.status == 200
        query_id = (await resp.json())["inline_query_id"]
    async with http.get("/sandbox/api/inline", params={"id": query_id}) as resp:
        assert (await resp.json()) == {"answer": None}
    await bot.answer_inline_query(query_id, [article("3")])
    async with http.get("/sandbox/api/inline", params={"id": query_id}) as resp:
        assert [r["title"] for r in (await resp.json())["answer"]["results"]] == ["Kihnu island day"]
    body = {"inline_query_id": query_id, "result_id": "3", "chat_id": anna.id}
    async with http.post("/sandbox/api/inline/choose", json=body) as resp:
        assert resp.status == 200 and (await resp.json())["via_bot"]["username"] == world.bot.username
    async with http.post("/sandbox/api/inline", json={"user_id": anna.id, "query": 5}) as resp:
        assert resp.status == 400
