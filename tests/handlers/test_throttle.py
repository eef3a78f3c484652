"""The per-user throttle (bot/throttle.py), through the real Dispatcher: a flood gets a few answers and one notice in
the flooder's language; other users, operators and payments are not slowed."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiogram import Bot, Dispatcher
from aiogram.dispatcher.event.bases import SkipHandler
from aiogram.fsm.storage.memory import MemoryStorage
from aiogram.types import ErrorEvent, Update
from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.config import Settings
from bot.i18n import I18n
from bot.throttle import BURST, TOO_FAST, Throttle
from handlers.tourist.callbacks import MenuAction, MenuCb
from tests.conftest import FixedClock
from tests.handlers.chat import Chat
from tests.handlers.conftest import OPERATOR_CHAT_ID, OPERATOR_ID, detach_routers
from tests.telegram.recorder import RecordingSession

pytestmark = pytest.mark.usefixtures("seeded")


class Stopwatch:
    """The throttle's monotonic clock, moved by hand: a flood arrives in no time at all."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def stopwatch() -> Stopwatch:
    return Stopwatch()


@pytest.fixture
async def dp(
    settings: Settings,
    sessions: async_sessionmaker,
    clock: FixedClock,
    bot: Bot,
    stopwatch: Stopwatch,
    handler_errors: list[BaseException],
) -> AsyncIterator[Dispatcher]:
    """The production Dispatcher with the production throttle on a hand-moved clock."""
    from bot.app import build_dispatcher

    dispatcher = build_dispatcher(
        settings, sessions, clock=clock, storage=MemoryStorage(), throttle=Throttle(monotonic=stopwatch)
    )

    @dispatcher.errors()
    async def _record(event: ErrorEvent) -> None:
        handler_errors.append(event.exception)
        raise SkipHandler

    yield dispatcher
    await dispatcher.storage.close()
    detach_routers(dispatcher)


def sent_to(recorder: RecordingSession, chat_id: int, since: int = 0) -> list[str]:
    """The texts of the messages the bot sent into ``chat_id`` (not edits, not callback answers)."""
    return [
        r.params.get("text", "")
        for r in recorder.requests[since:]
        if r.method.startswith("send") and int(r.params.get("chat_id", 0)) == chat_id
    ]


def notice(language: str) -> str:
    return I18n().translator(language).gettext(TOO_FAST)


async def test_a_flood_gets_a_few_answers_and_one_notice_while_another_user_is_answered(
    dp: Dispatcher, bot: Bot, recorder: RecordingSession, stopwatch: Stopwatch
) -> None:
    flooder = Chat(dp, bot, recorder, 2001, language_code="ru", first_name="Fedor")
    other = Chat(dp, bot, recorder, 2002, language_code="en", first_name="Olivia")
    await other.send("hello")
    per_message = len(sent_to(recorder, other.chat_id))
    assert per_message >= 1  # the bot answers a plain message: a flood of them would be answered one by one
    for i in range(200):
        await flooder.send(f"spam {i}")
        if i % 25 == 0:  # the flood goes on for 8 seconds; she writes once a second
            stopwatch.now += 1
            before = len(sent_to(recorder, other.chat_id))
            await other.send(f"still there? {i}")
            assert len(sent_to(recorder, other.chat_id)) - before == per_message, "another user was slowed"
    to_flooder = sent_to(recorder, flooder.chat_id)
    assert to_flooder.count(notice("ru")) == 1
    assert len(to_flooder) <= (BURST + 8) * per_message + 1  # the burst, then one a second
    assert notice("ru") != notice("en")  # told in the flooder's language

    query = {"id": "pcq-flood", "from": flooder.user, "currency": "EUR", "total_amount": 100, "invoice_payload": "x"}
    await dp.feed_update(bot, Update.model_validate({"update_id": 900_001, "pre_checkout_query": query}))
    assert recorder.calls("answerPreCheckoutQuery"), "a payment must never wait for a flood to end"

    stopwatch.now += 3  # the flood goes on, slower: one update a second gets through, no second notice
    mark = len(recorder.requests)
    for i in range(20):
        await flooder.send(f"more spam {i}")
    assert 1 <= len(sent_to(recorder, flooder.chat_id, mark)) <= 3 * per_message
    assert notice("ru") not in sent_to(recorder, flooder.chat_id, mark)

    stopwatch.now += 60  # calm again: answered as anyone, and a new flood is told again
    mark = len(recorder.requests)
    await flooder.send("hello again")
    assert len(sent_to(recorder, flooder.chat_id, mark)) == per_message
    for i in range(BURST + 5):
        await flooder.send(f"again {i}")
    assert sent_to(recorder, flooder.chat_id, mark).count(notice("ru")) == 1


async def test_a_dropped_press_is_answered_without_a_message(
    dp: Dispatcher, bot: Bot, recorder: RecordingSession
) -> None:
    tapper = Chat(dp, bot, recorder, 2003, language_code="de", first_name="Dieter")
    await tapper.send("/start")
    mark = len(recorder.requests)
    for _ in range(BURST + 10):
        await tapper.press_data("x:forged")  # every press must be answered: the harness checks it (spinner)
    toasts = [r.params.get("text") for r in recorder.requests[mark:] if r.method == "answerCallbackQuery"]
    assert toasts.count(notice("de")) == 1
    assert sent_to(recorder, tapper.chat_id, mark) == []  # a flood of presses is not answered with messages


async def test_operators_in_their_group_are_not_throttled(
    dp: Dispatcher, bot: Bot, recorder: RecordingSession, operator_members: set[int]
) -> None:
    desk = Chat(dp, bot, recorder, OPERATOR_ID, first_name="Olga", chat_id=OPERATOR_CHAT_ID, chat_type="supergroup")
    for _ in range(BURST + 5):
        await desk.send("/help")
    replies = sent_to(recorder, OPERATOR_CHAT_ID)
    assert len(replies) >= BURST + 5
    assert notice("en") not in replies


async def test_a_dropped_update_costs_no_database_work_and_the_notice_speaks_the_chosen_language(
    dp: Dispatcher, bot: Bot, recorder: RecordingSession, sessions: async_sessionmaker
) -> None:
    from sqlalchemy import event

    from tests.seed import seed_user

    # she chose Estonian in the bot although her Telegram speaks Russian
    await seed_user(sessions, 2004, language="et", first_name="Mari")
    flooder = Chat(dp, bot, recorder, 2004, language_code="ru", first_name="Mari")
    for i in range(BURST):
        await flooder.send(f"spam {i}")
    statements: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_rest: object) -> None:
        statements.append(statement)

    engine = sessions.kw["bind"].sync_engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        await flooder.send("one too many")  # the notice: it reads her language, nothing else
        reading_the_language = len(statements)
        for i in range(20):
            await flooder.send(f"dropped {i}")
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(statements) == reading_the_language, "a dropped update touched the database"
    assert sent_to(recorder, flooder.chat_id).count(notice("et")) == 1
    assert notice("ru") not in sent_to(recorder, flooder.chat_id)


async def test_a_flood_of_two_hundred_gets_only_a_few_replies(
    dp: Dispatcher, bot: Bot, recorder: RecordingSession
) -> None:
    """200 messages as fast as a script sends them: a handful answered, one notice, the rest dropped (issue 10,
    item 6: a burst of 20 still let 20 replies through)."""
    flooder = Chat(dp, bot, recorder, 2005, language_code="en", first_name="Sam")
    await flooder.send("hello")
    per_message = len(sent_to(recorder, flooder.chat_id))
    mark = len(recorder.requests)
    for i in range(200):
        await flooder.send(f"spam {i}")
    replies = sent_to(recorder, flooder.chat_id, mark)
    assert replies.count(notice("en")) == 1
    assert len(replies) - 1 <= 8 * per_message, f"{len(replies) - 1} replies to a flood"


async def test_a_person_tapping_through_screens_quickly_is_never_throttled(
    dp: Dispatcher, bot: Bot, recorder: RecordingSession, stopwatch: Stopwatch
) -> None:
    """Someone who knows the screens taps the next button as soon as the new one shows (0.4 s apart, faster than
    anyone reads) for a long while: every tap is handled, no notice."""
    tapper = Chat(dp, bot, recorder, 2006, language_code="en", first_name="Quick")
    await tapper.send("/start")
    menu = tapper.last_message().message_id
    mark = len(recorder.requests)
    for _ in range(60):  # 48 seconds of tapping: the menu, a region list, the menu...
        stopwatch.now += 0.4
        await tapper.press_data(MenuCb(action=MenuAction.EVENTS).pack(), message_id=menu)
        stopwatch.now += 0.4
        await tapper.press_data(MenuCb(action=MenuAction.HOME).pack(), message_id=menu)
    toasts = [r.params.get("text") for r in recorder.requests[mark:] if r.method == "answerCallbackQuery"]
    assert notice("en") not in toasts
    edits = [r for r in recorder.requests[mark:] if r.method == "editMessageText"]
    assert len(edits) == 120, "a tap was dropped"
