"""The waiting room through the real dispatcher (issue 13): Book on a hot session takes one place and one message
(the press answered with a toast, the message sent by the outbox);
"🔄 My place" answers without a message; stale and forged buttons are refused; a prepared booking is one tap when
the turn comes; the window's end passes the turn on and says so; stepping out and back keeps the place."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from aiogram import Dispatcher
from aiogram.types import InlineKeyboardButton
from sqlalchemy import select, update

from bot.outbox import OutboxSender
from bot.storage.room_tables import RoomPlaceRow
from bot.storage.tables import OrderRow, SessionRow
from bot.storage.uow import SqlUnitOfWork
from domain.use_cases.waiting_room import RoomSettings
from handlers.tourist.callbacks import BookAction, BookCb, RoomAction, RoomCb
from scheduler.jobs import WaitingRoomJobs
from tests.handlers.chat import Chat
from tests.handlers.conftest import OPERATOR_CHAT_ID
from tests.seed import Seeded


def data(cb: object) -> Callable[[InlineKeyboardButton], bool]:
    packed = cb.pack()  # type: ignore[attr-defined]
    return lambda button: button.callback_data == packed


async def make_hot(sessions, session_id: int, opens_at=None) -> None:
    async with sessions() as db, db.begin():
        await db.execute(update(SessionRow).where(SessionRow.id == session_id).values(hot=True, sale_opens_at=opens_at))


async def places(sessions) -> list[RoomPlaceRow]:
    async with sessions() as db:
        return list(await db.scalars(select(RoomPlaceRow).order_by(RoomPlaceRow.id)))


async def order_rows(sessions) -> list[OrderRow]:
    async with sessions() as db:
        return list(await db.scalars(select(OrderRow).order_by(OrderRow.id)))


def room_jobs(sessions, clock) -> WaitingRoomJobs:
    return WaitingRoomJobs(lambda: SqlUnitOfWork(sessions), clock, RoomSettings(desk_chat_id=OPERATOR_CHAT_ID))


async def test_book_on_a_hot_session_gives_one_place_and_one_message(
    chat: Chat, seeded: Seeded, sessions, sender: OutboxSender
) -> None:
    await make_hot(sessions, seeded.session_id)
    await chat.send("/start")
    await chat.press_data(BookCb(action=BookAction.START, session=seeded.session_id).pack())
    # the press gets its toast only: the handler sends nothing that Telegram's limits could make it wait for
    assert [r.method for r in chat.replies()] == ["answerCallbackQuery"]
    [toast] = chat.alerts()
    assert (toast.text, toast.show_alert) == ("You are in the queue.", False)
    [queued] = await places(sessions)
    assert (queued.message_id, queued.version, queued.shown_status, queued.shown_position) == (None, 1, "waiting", 1)
    await sender.drain()  # the place's first message was queued in the press's transaction
    [room] = chat.replies("sendMessage")
    assert "Your place: 1. People ahead of you: 0." in room.text
    assert "when your turn comes, you get a message here and 5 minutes to book" in room.text
    assert chat.buttons() == ["🔄 My place", "📝 Prepare my booking", "🚪 Leave the queue"]
    [row] = await places(sessions)
    assert row.message_id == chat.last_message().message_id

    await chat.press_data(BookCb(action=BookAction.START, session=seeded.session_id).pack())  # again: no 2nd place
    assert chat.replies("sendMessage") == [] and chat.replies("editMessageText") == []
    [alert] = chat.alerts()
    assert "Your place: 1" in alert.text
    assert len(await places(sessions)) == 1

    await chat.press("🔄 My place")  # answered in the callback answer: no message
    assert chat.texts() == [] and "Your place: 1" in chat.alerts()[0].text


async def test_forged_and_stale_queue_buttons_are_refused_and_change_nothing(
    chat: Chat, dp: Dispatcher, bot, recorder, seeded: Seeded, sessions, sender: OutboxSender
) -> None:
    await make_hot(sessions, seeded.session_id)
    other = Chat(dp, bot, recorder, 2002, language_code="de", first_name="Otto")
    await other.send("/start")
    await other.press_data(BookCb(action=BookAction.START, session=seeded.session_id).pack())
    await sender.drain()
    [theirs] = await places(sessions)

    await chat.send("/start")
    for action in RoomAction:
        for place in (theirs.id, 99_999):
            await chat.press_data(RoomCb(action=action, place=place).pack())
            [alert] = chat.alerts()
            assert alert.show_alert and "not yours" in alert.text
            assert chat.texts() == []
    [row] = await places(sessions)
    assert (row.status, row.user_id, row.version) == ("waiting", 2002, theirs.version)

    await other.press("🚪 Warteschlange verlassen")
    leave = RoomCb(action=RoomAction.LEAVE, place=theirs.id).pack()
    await other.press_data(leave)  # an old Leave button: the place as it is now, nothing changed
    assert "Ihr Platz: 1" in other.alerts()[0].text
    assert [p.status for p in await places(sessions)] == ["left"]


async def test_a_prepared_booking_is_one_tap_when_the_turn_comes(
    chat: Chat, seeded: Seeded, sessions, clock, sender: OutboxSender
) -> None:
    await make_hot(sessions, seeded.session_id)
    await chat.send("/start")
    await chat.press_data(BookCb(action=BookAction.START, session=seeded.session_id).pack())
    await sender.drain()
    room_id = chat.last_message().message_id
    await chat.press("📝 Prepare my booking")
    await chat.press(data(BookCb(action=BookAction.INC, session=seeded.session_id, value=0)))  # 2 adults
    await chat.press(data(BookCb(action=BookAction.NEXT, session=seeded.session_id)))
    await chat.send("Hotel Telegraaf, lobby")
    await chat.press(data(BookCb(action=BookAction.CHOICE, session=seeded.session_id, value=1)))
    await chat.press(data(BookCb(action=BookAction.CONFIRM, session=seeded.session_id)))
    [alert] = chat.alerts()
    assert "Your booking is ready" in alert.text
    assert await order_rows(sessions) == []  # no seat taken while waiting

    await room_jobs(sessions, clock).run_waiting_rooms()
    await sender.drain()
    turn = chat.last_message()
    assert turn.message_id != room_id and "It is your turn!" in (turn.text or "")
    await chat.press("🎟 Book now", message_id=turn.message_id)  # the one tap
    [order] = await order_rows(sessions)
    assert order.user_id == chat.user_id
    async with sessions() as db:
        assert await db.scalar(select(SessionRow.seats_left).where(SessionRow.id == seeded.session_id)) == 18
    assert [p.status for p in await places(sessions)] == ["booked"]


async def test_the_window_end_passes_the_turn_on_and_says_so(
    chat: Chat, dp: Dispatcher, bot, recorder, seeded: Seeded, sessions, clock, sender: OutboxSender
) -> None:
    await make_hot(sessions, seeded.small_session_id)  # 2 seats
    tourists = [Chat(dp, bot, recorder, 3000 + i, language_code="en", first_name=f"T{i}") for i in range(3)]
    for tourist in tourists:
        await tourist.send("/start")
        await tourist.press_data(BookCb(action=BookAction.START, session=seeded.small_session_id).pack())
    jobs = room_jobs(sessions, clock)
    await jobs.run_waiting_rooms()
    await sender.drain()
    assert [p.status for p in await places(sessions)] == ["admitted", "admitted", "waiting"]

    clock.advance(minutes=5, seconds=1)
    await jobs.run_waiting_rooms()
    await sender.drain()
    assert [p.status for p in await places(sessions)] == ["passed", "passed", "admitted"]
    assert "the turn passed on" in tourists[0].last_text()
    assert "It is your turn!" in tourists[2].last_text()
    await tourists[0].press_data(RoomCb(action=RoomAction.BOOK, place=(await places(sessions))[0].id).pack())
    assert "the turn passed on" in tourists[0].alerts()[0].text  # too late: nothing booked
    assert await order_rows(sessions) == []


async def test_stepping_out_and_back_within_the_retention_keeps_the_place(
    chat: Chat, dp: Dispatcher, bot, recorder, seeded: Seeded, sessions, clock, sender: OutboxSender
) -> None:
    await make_hot(sessions, seeded.session_id)
    first = Chat(dp, bot, recorder, 2001, language_code="en", first_name="Ann")
    await first.send("/start")
    await first.press_data(BookCb(action=BookAction.START, session=seeded.session_id).pack())
    await chat.send("/start")
    await chat.press_data(BookCb(action=BookAction.START, session=seeded.session_id).pack())
    await sender.drain()
    await chat.press("🚪 Leave the queue")
    assert "Your place is kept until" in chat.last_text()
    clock.advance(minutes=9)
    await chat.press("↩️ Back to my place")
    assert "Your place: 2. People ahead of you: 1." in chat.last_text()
    assert [p.status for p in await places(sessions)] == ["waiting", "waiting"]


async def test_book_before_the_sale_opens_joins_the_pre_queue(
    chat: Chat, seeded: Seeded, sessions, clock, sender: OutboxSender
) -> None:
    await make_hot(sessions, seeded.session_id, opens_at=clock.now() + timedelta(hours=1))
    await chat.send("/start")
    await chat.press_data(BookCb(action=BookAction.START, session=seeded.session_id).pack())
    await sender.drain()
    assert "The sale opens at" in chat.last_text() and "drawn at random" in chat.last_text()
    [row] = await places(sessions)
    assert row.rank is None


async def queue_of(
    dp: Dispatcher, bot, recorder, sessions, sender: OutboxSender, session_id: int, count: int
) -> list[Chat]:
    """``count`` tourists pressed Book on the hot session, one after the other, and got their queue messages."""
    await make_hot(sessions, session_id)
    tourists = [Chat(dp, bot, recorder, 5000 + i, language_code="en", first_name=f"T{i}") for i in range(count)]
    for tourist in tourists:
        await tourist.send("/start")
        await tourist.press_data(BookCb(action=BookAction.START, session=session_id).pack())
    await sender.drain()
    return tourists


async def test_positions_move_by_edits_in_place_of_each_tourists_one_message(
    dp: Dispatcher, bot, recorder, seeded: Seeded, sessions, clock, sender: OutboxSender
) -> None:
    tourists = await queue_of(dp, bot, recorder, sessions, sender, seeded.small_session_id, 5)  # 2 seats
    first_messages = [t.last_message().message_id for t in tourists]
    clock.advance(seconds=6)
    start = len(recorder.requests)
    await room_jobs(sessions, clock).run_waiting_rooms()
    await sender.drain()
    edits = [r for r in recorder.calls("editMessageText", since=start) if r.error is None]
    assert {(r.chat_id, r.get("message_id")) for r in edits} == {
        (t.user_id, m) for t, m in zip(tourists[2:], first_messages[2:], strict=True)
    }
    for position, tourist in enumerate(tourists[2:], start=1):
        assert f"Your place: {position}. People ahead of you: {position - 1}." in tourist.last_text()
    assert all(r.error is None for r in recorder.calls(since=start))  # never "message is not modified"

    start = len(recorder.requests)
    clock.advance(seconds=6)
    await room_jobs(sessions, clock).run_waiting_rooms()  # nothing moved: nothing sent
    await sender.drain()
    assert [r for r in recorder.calls(since=start) if r.method.startswith(("send", "edit"))] == []


async def test_the_operators_get_one_summary_card_per_on_sale_edited_in_place(
    dp: Dispatcher, bot, recorder, seeded: Seeded, sessions, clock, sender: OutboxSender
) -> None:
    tourists = await queue_of(dp, bot, recorder, sessions, sender, seeded.small_session_id, 4)
    jobs = room_jobs(sessions, clock)
    await jobs.run_waiting_rooms()
    await sender.drain()
    [card] = [r for r in recorder.calls("sendMessage") if r.chat_id == OPERATOR_CHAT_ID]
    assert "In the queue: 2 · admitted now: 2 · booked: 0" in card.get("text")

    turn = tourists[0].last_message()
    await tourists[0].press("🎟 Book now", message_id=turn.message_id)
    await tourists[0].press(data(BookCb(action=BookAction.NEXT, session=seeded.small_session_id)))
    await tourists[0].send("Hotel Telegraaf, lobby")
    await tourists[0].press(data(BookCb(action=BookAction.CHOICE, session=seeded.small_session_id, value=1)))
    await tourists[0].press(data(BookCb(action=BookAction.CONFIRM, session=seeded.small_session_id)))
    assert len(await order_rows(sessions)) == 1
    clock.advance(seconds=30)
    start = len(recorder.requests)
    await jobs.run_waiting_rooms()
    await sender.drain()
    cards = [r for r in recorder.calls(since=start) if r.chat_id == OPERATOR_CHAT_ID]
    assert [r.method for r in cards] == ["editMessageText"]
    assert cards[0].get("message_id") == card.result.message_id and "booked: 1" in cards[0].get("text")
