"""A stored batch's Book presses on a date with a queue are taken into its line together (bot/room_intake.py,
domain/use_cases/room_intake.py), on SQLite and PostgreSQL: in order of arrival, one place per tourist, each new
place's first message queued, the served updates marked done without their handlers; whatever does not qualify
(another chat's press, a chat with more in the batch, a stranger, a date without a queue) goes to its handler."""

from __future__ import annotations

import json
import logging
import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiogram import Bot
from aiohttp import ClientSession, web
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from bot.i18n import I18n
from bot.inbox import Inbox
from bot.room_answers import TOAST, RoomAnsweringWorker, RoomAnswers, book_press
from bot.room_intake import RoomIntake
from bot.storage.db import session_factory
from bot.storage.room_tables import RoomPlaceRow, WaitingRoomRow
from bot.storage.tables import InboxRow, OutboxRow, SessionRow
from bot.storage.uow import SqlUnitOfWork
from bot.webhook import SECRET_HEADER, WebhookReceiver, webhook_app
from domain.model.messages import OutboxKind
from domain.model.waiting_room import late_rank
from domain.use_cases import waiting_room as wr
from domain.use_cases.room_intake import Press, take_places
from handlers.tourist.callbacks import BookAction, BookCb
from scheduler.jobs import WaitingRoomJobs
from tests.fakes import FixedClock
from tests.integration.test_inbox import RecordingDispatcher, message
from tests.seed import seed_catalog, seed_users
from tests.telegram.recorder import RecordingSession

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
FIRST = 3_000_000
TOKEN = "42:intake-test"
SETTINGS = wr.RoomSettings(desk_chat_id=None)


async def hot_room(engine: AsyncEngine, users: int, seats: int = 5) -> tuple[async_sessionmaker, int]:
    """A hot session whose room is open (its first press was handled), and ``users`` registered tourists."""
    sessions = session_factory(engine)
    seeded = await seed_catalog(sessions, NOW)
    async with sessions() as db, db.begin():
        target = SessionRow(
            event_id=seeded.instant_event_id,
            starts_at=NOW + timedelta(days=5),
            capacity=seats,
            seats_left=seats,
            status="scheduled",
            hot=True,
        )
        db.add(target)
        await db.flush()
        target_id = target.id
    await seed_users(sessions, range(FIRST, FIRST + users), NOW)
    assert await wr.press_book(SqlUnitOfWork(sessions), target_id, FIRST, 1, NOW) is not None
    return sessions, target_id


async def line(sessions: async_sessionmaker) -> list[int]:
    async with sessions() as db:
        return list(await db.scalars(select(RoomPlaceRow.user_id).order_by(RoomPlaceRow.rank)))


async def first_messages(sessions: async_sessionmaker) -> int:
    async with sessions() as db:
        count = await db.scalar(
            select(func.count()).select_from(OutboxRow).where(OutboxRow.kind == OutboxKind.ROOM_PLACE.value)
        )
        return int(count or 0)


async def test_presses_are_taken_in_order_of_arrival_once_per_tourist(engine: AsyncEngine) -> None:
    sessions, target = await hot_room(engine, 6, seats=1)
    presses = [Press(FIRST + n, 100 + n) for n in range(1, 6)]
    random.Random(3).shuffle(presses)
    stranger = Press(99, 150)  # never talked to the bot: their handler registers them first
    again = Press(FIRST, 160)  # has a place already (their first press was handled): their handler answers
    served = await take_places(SqlUnitOfWork(sessions), target, [*presses, stranger, again], NOW)

    assert sorted(served) == [101, 102, 103, 104, 105]
    assert await line(sessions) == [FIRST + n for n in range(6)]  # the handled first press, then by arrival
    async with sessions() as db:
        ranks = dict((await db.execute(select(RoomPlaceRow.user_id, RoomPlaceRow.rank))).all())
    assert ranks[FIRST + 3] == late_rank(103)
    assert await take_places(SqlUnitOfWork(sessions), target, presses, NOW) == []  # pressing again: their handlers
    assert len(await line(sessions)) == 6

    # the room's pass gives each its first message, with its position, front first within the budget
    assert await first_messages(sessions) == 1  # the handled press's own
    await wr.run_room(SqlUnitOfWork(sessions), NOW + timedelta(seconds=1), 2, SETTINGS, lambda: 1)
    assert await told(sessions) == {FIRST: "admitted", FIRST + 1: 1}  # the one seat's turn, then the front
    await wr.run_room(SqlUnitOfWork(sessions), NOW + timedelta(seconds=2), 10, SETTINGS, lambda: 1)
    assert await told(sessions) == {FIRST: "admitted", **{FIRST + n: n for n in range(1, 6)}}
    assert await first_messages(sessions) == 7  # the first press's, its turn, and one for each taken in


async def told(sessions: async_sessionmaker) -> dict[int, object]:
    """What each place's message was last made to show: a position, or a status without one."""
    async with sessions() as db:
        rows = await db.execute(select(RoomPlaceRow.user_id, RoomPlaceRow.shown_status, RoomPlaceRow.shown_position))
    return {user: position or status for user, status, position in rows if status is not None}


async def test_nothing_is_taken_in_where_the_room_does_not_line_people_up(engine: AsyncEngine) -> None:
    sessions, target = await hot_room(engine, 3)
    async with sessions() as db, db.begin():
        room = await db.scalar(select(WaitingRoomRow).where(WaitingRoomRow.session_id == target))
        assert room is not None
        room.status = "sold_out"
    assert await take_places(SqlUnitOfWork(sessions), target, [Press(FIRST + 1, 101)], NOW) == []
    assert await take_places(SqlUnitOfWork(sessions), 987_654, [Press(FIRST + 1, 102)], NOW) == []  # no room
    assert await line(sessions) == [FIRST]


async def test_the_first_presses_on_a_hot_date_open_its_room(engine: AsyncEngine) -> None:
    sessions, target = await hot_room(engine, 3)
    async with sessions() as db, db.begin():
        fresh = SessionRow(
            event_id=(await db.get(SessionRow, target)).event_id,  # type: ignore[union-attr]
            starts_at=NOW + timedelta(days=6),
            capacity=5,
            seats_left=5,
            status="scheduled",
            hot=True,
        )
        db.add(fresh)
        await db.flush()
        fresh_id = fresh.id
    presses = [Press(FIRST + 2, 302), Press(FIRST + 1, 301)]
    assert await take_places(SqlUnitOfWork(sessions), fresh_id, presses, NOW) == [301, 302]
    async with sessions() as db:
        room = await db.scalar(select(WaitingRoomRow).where(WaitingRoomRow.session_id == fresh_id))
        places = list(await db.scalars(select(RoomPlaceRow.user_id).where(RoomPlaceRow.session_id == fresh_id)))
    assert room is not None and room.status == "open" and sorted(places) == [FIRST + 1, FIRST + 2]


def press(update_id: int, user_id: int, session_id: int, chat_id: int | None = None) -> dict[str, Any]:
    chat = chat_id if chat_id is not None else user_id
    return {
        "update_id": update_id,
        "callback_query": {
            "id": f"q{update_id}",
            "from": {"id": user_id, "is_bot": False, "first_name": "T", "language_code": "de"},
            "chat_instance": f"ci{chat}",
            "message": {
                "message_id": 7,
                "date": 1_764_000_000,
                "chat": {"id": chat, "type": "private" if chat == user_id else "group", "first_name": "T"},
                "text": "card",
            },
            "data": BookCb(action=BookAction.START, session=session_id).pack(),
        },
    }


async def test_the_worker_takes_a_batchs_presses_in_and_hands_the_rest_to_their_handlers(
    engine: AsyncEngine, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, "bot.room_intake")
    sessions, target = await hot_room(engine, 8)
    clock = FixedClock(NOW)
    inbox = Inbox(sessions, clock)
    recorder = RecordingSession(now=clock.now)
    bot = Bot(token=TOKEN, session=recorder)
    answers = RoomAnswers(bot, sessions, I18n(), clock)
    assert await answers.refreshed() == {target}
    dp = RecordingDispatcher()
    worker = RoomAnsweringWorker(dp, bot, inbox, answers)
    batch = [
        press(11, FIRST + 3, target),
        press(12, FIRST + 1, target),
        press(13, FIRST + 2, target),
        press(14, FIRST + 4, target, chat_id=-500),  # pressed in a group: its handler decides
        press(15, FIRST + 5, target),
        # the same chat has more in the batch: all of it goes to its handlers, in order
        message(16, FIRST + 5).model_dump(mode="json", exclude_none=True, by_alias=True),
        press(17, 4_242, target),  # a stranger: registered by their handler first
        press(18, FIRST + 6, 987_654),  # a date without a queue
    ]
    await worker.accept(batch)
    await worker.idle()
    assert await worker.wait_idle(10)

    # no fallback (a warning); the one press the intake left to its handler (the stranger's) is said at info
    assert [r.getMessage() for r in caplog.records if r.name == "bot.room_intake"] == [
        "1 Book press(es) go to their handlers (0 behind an older update of their chat)"
    ]
    assert sorted(dp.finished) == [14, 15, 16, 17, 18]
    assert await line(sessions) == [FIRST, FIRST + 3, FIRST + 1, FIRST + 2]  # 11, 12, 13: by arrival
    async with sessions() as db:
        statuses = dict((await db.execute(select(InboxRow.update_id, InboxRow.status))).all())
    assert set(statuses.values()) == {"done"} and len(statuses) == len(batch)
    answered = {call.params["callback_query_id"] for call in recorder.calls("answerCallbackQuery")}
    assert {"q11", "q12", "q13", "q15", "q17"} <= answered and "q18" not in answered  # on receipt, as before
    await worker.stop(5)
    await bot.session.close()


async def test_a_tourist_whose_turn_it_is_is_known_to_the_worker(engine: AsyncEngine) -> None:
    """Their taps go ahead of everyone waiting for a slot (bot/slots.py): the worker asks RoomAnswers."""
    sessions, target = await hot_room(engine, 3, seats=1)
    await take_places(SqlUnitOfWork(sessions), target, [Press(FIRST + 1, 101)], NOW)
    clock = FixedClock(NOW)
    await WaitingRoomJobs(lambda: SqlUnitOfWork(sessions), clock, SETTINGS).run_waiting_rooms()  # FIRST's turn
    bot = Bot(token=TOKEN, session=RecordingSession(now=clock.now))
    answers = RoomAnswers(bot, sessions, I18n(), clock)
    worker = RoomAnsweringWorker(RecordingDispatcher(), bot, Inbox(sessions, clock), answers)
    await answers.refreshed()
    assert worker.urgent(FIRST) and not worker.urgent(FIRST + 1) and not worker.urgent(FIRST + 2)
    await bot.session.close()


async def test_a_book_press_the_intake_does_not_take_goes_ahead_of_the_others(engine: AsyncEngine) -> None:
    """A press that goes to its handler (here: its chat has more in the batch) takes the next slot ahead of everyone
    waiting, once: the room admits no one ranked behind a press not yet handled."""
    sessions, target = await hot_room(engine, 3)
    clock = FixedClock(NOW)
    bot = Bot(token=TOKEN, session=RecordingSession(now=clock.now))
    answers = RoomAnswers(bot, sessions, I18n(), clock)
    worker = RoomAnsweringWorker(RecordingDispatcher(), bot, Inbox(sessions, clock), answers)
    await answers.refreshed()
    batch = [
        press(21, FIRST + 1, target),
        message(22, FIRST + 1).model_dump(mode="json", exclude_none=True, by_alias=True),
        press(23, FIRST + 2, 987_654),  # a date without a queue
        message(24, FIRST + 3).model_dump(mode="json", exclude_none=True, by_alias=True),
    ]
    asked: dict[int, bool] = {}
    ask = worker.urgent

    def urgent(chat: int) -> bool:  # as each chat's chain asks when it starts
        asked[chat] = ask(chat)
        return asked[chat]

    worker.urgent = urgent
    await worker.accept(batch)
    await worker.idle()
    assert await worker.wait_idle(10)
    assert asked == {FIRST + 1: True, FIRST + 2: False, FIRST + 3: False}
    assert ask(FIRST + 1) is False  # once: the press's chain has started
    await worker.stop(5)
    await bot.session.close()


async def test_the_intake_writes_in_the_front_lane(engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch) -> None:
    """Its transactions go ahead of the handlers' writes waiting for SQLite's lock, as the store's do
    (bot/storage/write_gate.py): behind the admitted tourists' taps it fell seconds behind in CI."""
    from bot.storage import write_gate

    lanes: list[bool] = []
    acquire = write_gate.WriteGate.acquire

    async def recorded(self: write_gate.WriteGate, owner: object, urgent: bool = False) -> None:
        lanes.append(urgent)
        await acquire(self, owner, urgent)

    monkeypatch.setattr(write_gate.WriteGate, "acquire", recorded)
    sessions, target = await hot_room(engine, 3)
    clock = FixedClock(NOW)
    intake = RoomIntake(Inbox(sessions, clock), lambda: SqlUnitOfWork(sessions), clock)
    stored = await Inbox(sessions, clock).accept([press(31, FIRST + 1, target)], Bot(token=TOKEN))
    lanes.clear()
    served = await intake.take_in(intake.candidates(stored, {target}, set(), book_press, lambda query: True))
    assert served == {31}
    if engine.dialect.name == "sqlite":
        assert lanes and all(lanes)


async def test_over_a_webhook_a_hot_dates_book_press_is_answered_in_the_response(engine: AsyncEngine) -> None:
    """Telegram makes the call a webhook's response carries (bot/webhook.py): the press is answered without a
    request of ours, in the tourist's language, once; anything else is acknowledged with a plain "ok"."""
    sessions, target = await hot_room(engine, 3)
    clock = FixedClock(NOW)
    recorder = RecordingSession(now=clock.now)
    bot = Bot(token=TOKEN, session=recorder)
    answers = RoomAnswers(bot, sessions, I18n(), clock)
    await answers.refreshed()
    inbox = Inbox(sessions, clock)
    worker = RoomAnsweringWorker(RecordingDispatcher(), bot, inbox, answers)
    runner = web.AppRunner(webhook_app(WebhookReceiver(inbox, worker, bot, "hook-secret"), "/hook"))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    replies: list[object] = []
    try:
        async with ClientSession(f"http://127.0.0.1:{runner.addresses[0][1]}") as client:
            for update in (
                press(41, FIRST + 1, target),
                message(42, FIRST + 2).model_dump(mode="json", exclude_none=True, by_alias=True),
                press(41, FIRST + 1, target),  # Telegram sends it again: acknowledged, dropped
            ):
                headers = {SECRET_HEADER: "hook-secret", "Content-Type": "application/json"}
                async with client.post("/hook", data=json.dumps(update), headers=headers) as response:
                    assert response.status == 200
                    is_json = response.content_type == "application/json"
                    replies.append(await response.json() if is_json else await response.text())
        await answers.idle()
        await worker.idle()
    finally:
        await worker.stop(5)
        await runner.cleanup()
        await bot.session.close()
    toast = I18n().translator("de").gettext(TOAST)
    assert toast != TOAST  # the tourist's language (the press's language_code is "de")
    assert replies == [
        {"method": "answerCallbackQuery", "callback_query_id": "q41", "text": toast},
        "ok",
        "ok",
    ]
    assert [r for r in recorder.requests if r.method == "answerCallbackQuery"] == []
