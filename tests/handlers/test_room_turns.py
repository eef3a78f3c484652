"""Issue 13, through the real dispatcher and sender: a turn's admission window starts when its "your turn" message
goes out (not at the admission), a message that never goes out does not hold the turn for ever, a row superseded by
a newer version of the same message is closed as superseded (not dead), and a Book press on a hot date is answered
as soon as it is received, before its update is handled (bot/room_answers.py)."""

from __future__ import annotations

import json
from datetime import timedelta

from aiogram import Bot, Dispatcher
from aiogram.types import Update
from sqlalchemy import func, select, update

from bot.outbox import OutboxSender
from bot.room_answers import TOAST, RoomAnswers
from bot.storage.room_tables import RoomPlaceRow
from bot.storage.tables import OutboxRow, SessionRow
from bot.storage.uow import SqlUnitOfWork
from domain.model.waiting_room import TURN_DELIVERY
from domain.use_cases.waiting_room import RoomSettings
from handlers.tourist.callbacks import BookAction, BookCb, RoomAction, RoomCb
from scheduler.jobs import WaitingRoomJobs
from tests.handlers.chat import Chat
from tests.handlers.conftest import OPERATOR_CHAT_ID
from tests.seed import Seeded
from tests.telegram.recorder import RecordingSession


async def make_hot(sessions, session_id: int) -> None:
    async with sessions() as db, db.begin():
        await db.execute(update(SessionRow).where(SessionRow.id == session_id).values(hot=True))


async def the_place(sessions) -> RoomPlaceRow:
    async with sessions() as db:
        [place] = await db.scalars(select(RoomPlaceRow))
        return place


async def outbox_statuses(sessions) -> dict[str, int]:
    async with sessions() as db:
        rows = await db.execute(select(OutboxRow.status, func.count()).group_by(OutboxRow.status))
        return dict(rows.all())  # type: ignore[arg-type]


def room_jobs(sessions, clock) -> WaitingRoomJobs:
    return WaitingRoomJobs(lambda: SqlUnitOfWork(sessions), clock, RoomSettings(desk_chat_id=OPERATOR_CHAT_ID))


async def test_the_window_starts_when_the_turn_message_goes_out(
    chat: Chat, seeded: Seeded, sessions, clock, sender: OutboxSender
) -> None:
    await make_hot(sessions, seeded.small_session_id)  # 2 seats, the default window of 5 minutes
    await chat.send("/start")
    await chat.press_data(BookCb(action=BookAction.START, session=seeded.small_session_id).pack())
    admitted_at = clock.now()
    await room_jobs(sessions, clock).run_waiting_rooms()  # admitted: the turn's message is queued behind the first
    place = await the_place(sessions)
    assert place.status == "admitted" and place.admit_until == admitted_at + TURN_DELIVERY + timedelta(minutes=5)

    clock.advance(seconds=90)  # the sender is busy elsewhere: the message goes out 90 s after the admission
    await sender.drain()
    told_at = clock.now()
    place = await the_place(sessions)
    assert place.admit_until == told_at + timedelta(minutes=5)  # the whole window, from the message
    assert "It is your turn!" in chat.last_text()
    # the first message (version 1) was superseded by the turn's (version 2) before it went out: not a failure
    assert await outbox_statuses(sessions) == {"superseded": 1, "sent": 2}  # + the operators' card

    clock.set(admitted_at + timedelta(minutes=5, seconds=30))  # past a window counted from the admission
    await room_jobs(sessions, clock).run_waiting_rooms()
    assert (await the_place(sessions)).status == "admitted"
    await chat.press_data(RoomCb(action=RoomAction.BOOK, place=place.id).pack())  # may still book
    assert "How many tickets?" in chat.last_text() and chat.alerts() == []

    clock.set(told_at + timedelta(minutes=5, seconds=1))
    await room_jobs(sessions, clock).run_waiting_rooms()
    await sender.drain()
    assert (await the_place(sessions)).status == "passed"
    assert "the turn passed on" in chat.last_text()


async def test_a_turn_whose_message_never_goes_out_passes_on_at_its_bound(
    chat: Chat, seeded: Seeded, sessions, clock, sender: OutboxSender
) -> None:
    await make_hot(sessions, seeded.small_session_id)
    await chat.send("/start")
    await chat.press_data(BookCb(action=BookAction.START, session=seeded.small_session_id).pack())
    admitted_at = clock.now()
    jobs = room_jobs(sessions, clock)
    await jobs.run_waiting_rooms()  # nothing is delivered from here on (Telegram unreachable, say)
    clock.set(admitted_at + TURN_DELIVERY + timedelta(minutes=5) - timedelta(seconds=1))
    await jobs.run_waiting_rooms()
    assert (await the_place(sessions)).status == "admitted"
    clock.set(admitted_at + TURN_DELIVERY + timedelta(minutes=5))
    await jobs.run_waiting_rooms()
    assert (await the_place(sessions)).status == "passed"  # the turn goes on: no seat is held for ever


def book_press(chat: Chat, recorder: RecordingSession, bot: Bot, session_id: int, query_id: str) -> Update:
    message = recorder.message(chat.chat_id, chat.last_message().message_id)
    query = {
        "id": query_id,
        "from": chat.user,
        "chat_instance": f"ci{chat.chat_id}",
        "message": message,
        "data": BookCb(action=BookAction.START, session=session_id).pack(),
    }
    return Update.model_validate({"update_id": 900_001, "callback_query": query}, context={"bot": bot})


async def test_a_book_press_on_a_hot_date_is_answered_on_receipt_before_it_is_handled(
    chat: Chat, dp: Dispatcher, bot: Bot, recorder: RecordingSession, seeded: Seeded, sessions, clock
) -> None:
    await chat.send("/start")
    answers = RoomAnswers(bot, sessions, dp["i18n"], clock)
    answers.received([book_press(chat, recorder, bot, seeded.session_id, "early-1")])  # nothing read yet: no answer
    assert await answers.refreshed() == frozenset()
    answers.received([book_press(chat, recorder, bot, seeded.session_id, "calm-1")])  # not hot: the handler answers
    await answers.idle()
    assert recorder.calls("answerCallbackQuery") == []

    await make_hot(sessions, seeded.session_id)
    assert await answers.refreshed() == {seeded.session_id}
    hot = book_press(chat, recorder, bot, seeded.session_id, "hot-1")
    answers.received([hot, book_press(chat, recorder, bot, seeded.session_id, "hot-2")])
    answers.received([hot])  # delivered again (a webhook retry): answered once
    await answers.idle()
    first, second = recorder.calls("answerCallbackQuery")
    assert first.params["text"] == TOAST and first.params["callback_query_id"] == "hot-1"
    assert second.params["callback_query_id"] == "hot-2"

    await dp.feed_update(bot, hot)  # handled later: the place is taken; its own answer is not sent (a second one)
    place = await the_place(sessions)
    assert (place.user_id, place.status) == (chat.user_id, "waiting")
    assert len(recorder.calls("answerCallbackQuery")) == 2 and answers.answered("hot-1")


async def test_a_book_press_is_answered_from_telegrams_json_before_its_batch_is_stored(
    chat: Chat, dp: Dispatcher, bot: Bot, recorder: RecordingSession, seeded: Seeded, sessions, clock
) -> None:
    """The polling hands the raw batch over before storing it: the presses on a hot date are answered from the
    JSON while the batch is committed; the rest of the batch (and forged data) is left to the handlers."""
    await chat.send("/start")
    await make_hot(sessions, seeded.session_id)
    answers = RoomAnswers(bot, sessions, dp["i18n"], clock)
    assert await answers.refreshed() == {seeded.session_id}
    press = book_press(chat, recorder, bot, seeded.session_id, "raw-1").model_dump(
        mode="json", exclude_none=True, by_alias=True
    )
    forged = json.loads(json.dumps(press)) | {"update_id": 900_002}
    forged["callback_query"] |= {"id": "forged-1", "data": "k:start:not-a-number"}
    odd = [{"update_id": 900_003}, "not an update", {"update_id": 900_004, "callback_query": {"id": 5}}]
    answers.arrived([press, forged, *odd])
    answers.arrived([press])  # the same batch again (its store failed; Telegram sends it again): answered once
    await answers.idle()
    [answer] = recorder.calls("answerCallbackQuery")
    assert answer.params["callback_query_id"] == "raw-1" and answer.params["text"] == TOAST
    assert answers.answered("raw-1") and not answers.answered("forged-1")
