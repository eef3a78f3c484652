"""Inline mode through the real dispatcher (issue 15): ``@bot <words>`` answers with the matching events in the asking
user's language, each with a deep link that opens the event card; an empty or odd query lists the next events; no
match says so with a button to the bot; a forged, huge query is cut and answered like any other. Every answer is
checked against the Bot API spec by the recorder."""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.types import Update
from sqlalchemy import update
from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.storage.tables import EventRow, SessionRow
from handlers.tourist.inline_mode import CACHE_TIME_S, UPCOMING, query_words
from tests.fakes import FixedClock
from tests.handlers.chat import Chat
from tests.seed import Seeded
from tests.telegram.recorder import BOT_USERNAME, RecordingSession

_ids = itertools.count(1)


async def inline(
    dp: Dispatcher, bot: Bot, recorder: RecordingSession, text: str, language: str = "en", user_id: int = 3001
) -> dict:
    """``user_id`` types ``@bot text`` somewhere (their Telegram in ``language``: the bot's language for them from
    their first update on); the bot's answerInlineQuery parameters."""
    query_id = f"iq-{next(_ids)}"
    user: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": "Ines", "language_code": language}
    payload = {
        "update_id": 900_000 + next(_ids),
        "inline_query": {"id": query_id, "from": user, "query": text, "offset": ""},
    }
    mark = len(recorder.requests)
    await dp.feed_update(bot, Update.model_validate(payload, context={"bot": bot}))
    [answer] = recorder.calls("answerInlineQuery", since=mark)
    assert answer.error is None and answer.params["inline_query_id"] == query_id
    return answer.params


def titles(params: dict) -> list[str]:
    return [r["title"] for r in params["results"]]


async def test_matching_events_in_the_user_s_language_with_a_deep_link(
    dp: Dispatcher, bot: Bot, recorder: RecordingSession, seeded: Seeded
) -> None:
    params = await inline(dp, bot, recorder, "kreuz", language="de", user_id=3002)
    assert titles(params) == ["Inselkreuzfahrt"]
    assert params["is_personal"] is True and params["cache_time"] == CACHE_TIME_S
    [result] = params["results"]
    assert result["type"] == "article" and result["id"] == str(seeded.event_id)
    assert "Tallinn" in result["description"]
    [[button]] = result["reply_markup"]["inline_keyboard"]
    assert button["url"] == f"https://t.me/{BOT_USERNAME}?start=ev-islands-cruise"
    content = result["input_message_content"]
    assert content["message_text"].startswith("<b>Inselkreuzfahrt</b>") and content["parse_mode"] == "HTML"

    english = await inline(dp, bot, recorder, "ISLANDS", language="en")  # case does not matter
    assert titles(english) == ["Islands cruise"]
    assert (await inline(dp, bot, recorder, "kreuz", language="en"))["results"] == []  # not in English
    assert titles(await inline(dp, bot, recorder, "islands", language="en", user_id=3002)) == []  # not in German


async def test_the_region_s_name_finds_its_events_soonest_first(
    dp: Dispatcher, bot: Bot, recorder: RecordingSession, seeded: Seeded
) -> None:
    params = await inline(dp, bot, recorder, "tallinn")
    assert titles(params) == ["Old Town walk", "Islands cruise"]  # the walk is tomorrow, the cruise the day after


async def test_no_match_says_so_with_a_button_to_the_bot(
    dp: Dispatcher, bot: Bot, recorder: RecordingSession, seeded: Seeded
) -> None:
    params = await inline(dp, bot, recorder, "zzzz")
    assert params["results"] == []
    assert params["button"] == {"text": "Nothing found: open the bot", "start_parameter": "inline"}


async def test_an_empty_or_odd_query_lists_the_next_events_open_for_booking(
    dp: Dispatcher,
    bot: Bot,
    recorder: RecordingSession,
    seeded: Seeded,
    sessions: async_sessionmaker,
    clock: FixedClock,
) -> None:
    assert titles(await inline(dp, bot, recorder, "")) == ["Old Town walk", "Islands cruise"]
    assert titles(await inline(dp, bot, recorder, "  !!! %% -- ?")) == ["Old Town walk", "Islands cruise"]
    async with sessions() as db, db.begin():  # the walk sold out: not offered
        await db.execute(update(SessionRow).where(SessionRow.id == seeded.instant_session_id).values(seats_left=0))
    assert titles(await inline(dp, bot, recorder, "")) == ["Islands cruise"]
    assert len(titles(await inline(dp, bot, recorder, ""))) <= UPCOMING


async def test_a_forged_huge_query_is_cut_and_answered(
    dp: Dispatcher, bot: Bot, recorder: RecordingSession, seeded: Seeded
) -> None:
    params = await inline(dp, bot, recorder, "cruise " * 5000)
    assert titles(params) == ["Islands cruise"]
    assert query_words("a b c d e f g h") == ["a", "b", "c", "d", "e"]
    assert query_words("x" * 10_000) == ["x" * 64]


async def test_a_changed_title_is_found_at_once(
    dp: Dispatcher, bot: Bot, recorder: RecordingSession, seeded: Seeded, sessions: async_sessionmaker
) -> None:
    assert titles(await inline(dp, bot, recorder, "lighthouse")) == []
    async with sessions() as db, db.begin():
        await db.execute(
            update(EventRow).where(EventRow.id == seeded.event_id).values(title={"en": "Lighthouse cruise"})
        )
    assert titles(await inline(dp, bot, recorder, "lighthouse")) == ["Lighthouse cruise"]


async def test_the_deep_link_opens_the_card_and_inline_queries_are_asked_for(
    dp: Dispatcher, chat: Chat, seeded: Seeded
) -> None:
    assert "inline_query" in dp.resolve_used_update_types()  # polling and setWebhook ask Telegram for them
    await chat.send("/start ev-islands-cruise")
    assert chat.last_text().startswith("Islands cruise")
    assert "☆ Add to favourites" in chat.buttons() and "↗️ Share" in chat.buttons()


async def test_a_date_too_close_to_start_is_not_a_next_date(
    dp: Dispatcher,
    bot: Bot,
    recorder: RecordingSession,
    seeded: Seeded,
    sessions: async_sessionmaker,
    clock: FixedClock,
) -> None:
    async with sessions() as db, db.begin():  # the walk starts in two minutes: inside the booking cutoff
        await db.execute(
            update(SessionRow)
            .where(SessionRow.id == seeded.instant_session_id)
            .values(starts_at=clock.now() + timedelta(minutes=2))
        )
    assert titles(await inline(dp, bot, recorder, "walk")) == []
