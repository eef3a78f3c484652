"""The per-user throttle (bot/throttle.py), through the real Dispatcher: a flood gets a few answers and one notice in
the flooder's language; other users, operators and payments are not slowed. The bucket's step is held to
``BUCKET_CASES``, which tests/integration/test_throttle_redis.py holds the Redis script to as well; with
``TEST_REDIS_URL`` set, a flood split over two dispatchers (two replicas) sharing Redis is told once."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator

import pytest
from aiogram import Bot, Dispatcher
from aiogram.dispatcher.event.bases import SkipHandler
from aiogram.fsm.storage.memory import MemoryStorage
from aiogram.types import ErrorEvent, Update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.config import Settings
from bot.i18n import I18n
from bot.throttle import (
    BURST,
    FLOOD_PER_SECOND,
    PER_SECOND,
    TOO_FAST,
    Bucket,
    Limits,
    MemoryBuckets,
    Throttle,
    Verdict,
    build_throttle,
    step_bucket,
)
from handlers.tourist.callbacks import MenuAction, MenuCb
from tests.fakes import FixedClock
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


REDIS_URL = os.environ.get("TEST_REDIS_URL", "")
LIMITS = Limits(float(BURST), PER_SECOND, FLOOD_PER_SECOND)
START = 1000.0  # the first update's time in every case

# The bucket's cases: the seconds from one update of a user to their next (the first at START), and the verdicts the
# step must give them: P pass, N notify (dropped, told), D drop. The Redis script is held to the same cases.
BUCKET_CASES: dict[str, tuple[list[float], str]] = {
    "a new user is served": ([0.0], "P"),
    "a flood at once: the burst, one notice, the rest dropped": ([0.0] * 12, "PPPPPPNDDDDD"),
    "a flood going on at one a second is answered once a second": ([0.0] * 8 + [1.0] * 3, "PPPPPPNDPPP"),
    "a flood going on at two a second: every other one": ([0.0] * 7 + [0.5] * 6, "PPPPPPNDPDPDP"),
    "full again after a flood: served, and a new flood is told again": (
        [0.0] * 7 + [6.0] + [0.0] * 6,
        "PPPPPPNPPPPPPN",
    ),
    "not full yet: the same flood goes on, not told twice": ([0.0] * 7 + [5.5] + [0.0] * 6, "PPPPPPNPPPPPDD"),
    "a person tapping every 0.4 s for a minute": ([0.4] * 150, "P" * 150),
    "three a second for long: the calm refill keeps up": ([1 / 3] * 100, "P" * 100),
    "five a second: thirteen answers, told, then one a second": (
        [0.2] * 40,
        "PPPPPPPPPPPPPNPDDDDPDDDDPDDDDPDDDDPDDDDP",
    ),
    "a replica's clock a moment behind takes no token away": ([0.0] * 6 + [-0.5, 1.0], "PPPPPPND"),
}


def run_case(gaps: list[float]) -> list[tuple[Bucket, Verdict]]:
    """The pure step over a case: each update's bucket after it, and its verdict."""
    now, bucket, steps = START, None, []
    for gap in gaps:
        now += gap
        bucket, verdict = step_bucket(bucket, now, LIMITS)
        steps.append((bucket, verdict))
    return steps


def letters(verdicts: list[Verdict]) -> str:
    return "".join(v.name[0] for v in verdicts)


@pytest.mark.parametrize("case", list(BUCKET_CASES))
def test_the_bucket_step_gives_each_case_its_verdicts(case: str) -> None:
    gaps, expected = BUCKET_CASES[case]
    steps = run_case(gaps)
    assert letters([v for _, v in steps]) == expected
    assert all(0 <= b.tokens <= BURST for b, _ in steps)


@pytest.mark.parametrize("case", list(BUCKET_CASES))
async def test_the_throttle_in_memory_gives_each_case_its_verdicts(case: str, stopwatch: Stopwatch) -> None:
    gaps, expected = BUCKET_CASES[case]
    stopwatch.now = START
    throttle = Throttle(monotonic=stopwatch)
    verdicts = []
    for gap in gaps:
        stopwatch.now += gap
        verdicts.append(await throttle.admit(7))
    assert letters(verdicts) == expected


async def test_in_memory_idle_users_are_forgotten(stopwatch: Stopwatch) -> None:
    throttle = Throttle(monotonic=stopwatch)
    for _ in range(BURST + 1):
        await throttle.admit(8)
    stopwatch.now += 61  # past the sweep: the flooder's bucket is full again, so it is forgotten
    assert await throttle.admit(9) is Verdict.PASS
    assert isinstance(throttle.buckets, MemoryBuckets)
    assert len(throttle.buckets) == 1  # only the user just seen
    assert [await throttle.admit(8) for _ in range(BURST + 1)][-1] is Verdict.NOTIFY  # a new flood, told again


@pytest.fixture
async def dp(
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
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
    dp: Dispatcher, bot: Bot, recorder: RecordingSession, sessions: async_sessionmaker[AsyncSession]
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


@pytest.mark.skipif(not REDIS_URL, reason="Redis not configured: set TEST_REDIS_URL (redis://127.0.0.1:6379/15)")
async def test_with_redis_a_flood_split_over_two_replicas_is_answered_and_told_once(
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    clock: FixedClock,
    bot: Bot,
    recorder: RecordingSession,
    stopwatch: Stopwatch,
) -> None:
    """Two processes, one Redis: the flood's first half reaches one replica, the second half the other. Together they
    answer the burst and tell the flooder once, as one process would."""
    from redis.asyncio import Redis

    from bot.app import build_dispatcher

    prefix = f"tripdesk-test-throttle-{uuid.uuid4().hex[:10]}"
    flooder = Chat(None, bot, recorder, 2007, language_code="de", first_name="Dora")  # type: ignore[arg-type]
    calm = Chat(None, bot, recorder, 2008, language_code="en", first_name="Carl")  # type: ignore[arg-type]
    answered = []
    try:
        for half in range(2):  # the flood arrives in no time at all: half of it at each replica
            throttle = build_throttle(REDIS_URL, monotonic=stopwatch, prefix=prefix)
            replica = build_dispatcher(settings, sessions, clock=clock, storage=MemoryStorage(), throttle=throttle)
            flooder.dp = calm.dp = replica
            try:
                for i in range(15):
                    await flooder.send(f"spam {half} {i}")
                before = len(sent_to(recorder, calm.chat_id))
                await calm.send(f"hello {half}")
                answered.append(len(sent_to(recorder, calm.chat_id)) - before)
            finally:
                detach_routers(replica)
                await throttle.close()
    finally:
        redis = Redis.from_url(REDIS_URL)
        keys = [key async for key in redis.scan_iter(f"{prefix}:*")]
        if keys:
            await redis.delete(*keys)
        await redis.aclose()
    per_message = answered[0]
    assert per_message >= 1 and answered == [per_message, per_message], "the calm user was slowed"
    to_flooder = sent_to(recorder, flooder.chat_id)
    assert to_flooder.count(notice("de")) == 1
    assert len(to_flooder) - 1 == BURST * per_message  # the burst, counted once over both replicas
