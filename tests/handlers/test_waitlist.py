"""The waitlist through the real dispatcher: a sold-out date offers "join the waitlist", the entry shows under My
orders and can be left; freed seats come as a message with the time in the tourist's zone, Claim and No thanks;
a claim books through the usual booking screens; forged and stale buttons are refused and change nothing."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from aiogram import Bot, Dispatcher
from aiogram.types import InlineKeyboardButton
from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.outbox import OutboxSender
from bot.storage.tables import OrderRow, SessionRow, WaitlistRow
from bot.storage.uow import SqlUnitOfWork
from domain.model.orders import BookingStatus
from domain.use_cases.booking import PlaceOrder, cancel_order, place_order
from handlers.tourist.callbacks import BookAction, BookCb, EventCb, MenuAction, MenuCb, WaitAction, WaitCb
from scheduler.jobs import DeadlineJobs
from tests.fakes import FixedClock
from tests.handlers.chat import Chat
from tests.seed import Seeded, seed_users
from tests.telegram.recorder import RecordingSession

TOURIST = 2101
STRANGER = 2102
BUYER, OTHER = 2201, 2202


def data(cb: object) -> Callable[[InlineKeyboardButton], bool]:
    packed = cb.pack()  # type: ignore[attr-defined]
    return lambda button: button.callback_data == packed


async def _seats_left(sessions: async_sessionmaker, session_id: int) -> int:
    async with sessions() as db:
        return int(await db.scalar(select(SessionRow.seats_left).where(SessionRow.id == session_id)) or 0)


async def _entries(sessions: async_sessionmaker) -> list[WaitlistRow]:
    async with sessions() as db:
        return list(await db.scalars(select(WaitlistRow).order_by(WaitlistRow.id)))


async def _sold_out(sessions: async_sessionmaker, seeded: Seeded, clock: FixedClock) -> int:
    """The instant walk's 10 seats sold to two others (4 and 6); the 4-seat order's id."""
    await seed_users(sessions, [BUYER, OTHER], clock.now())
    sid = seeded.instant_session_id
    first = await place_order(SqlUnitOfWork(sessions), PlaceOrder(BUYER, sid, {"adult": 4}), clock.now())
    await place_order(SqlUnitOfWork(sessions), PlaceOrder(OTHER, sid, {"adult": 6}), clock.now())
    return first.stored_id


@pytest.fixture
def sender(bot: Bot, sessions: async_sessionmaker, dp: Dispatcher, clock: FixedClock) -> OutboxSender:
    from bot.ratelimit import Limits

    return OutboxSender(bot, sessions, dp["i18n"], clock, limits=Limits.unlimited())


async def _join(chat: Chat, seeded: Seeded, seats: int) -> None:
    await chat.send("/start")
    await chat.press_data(EventCb(event=seeded.instant_event_id).pack())
    await chat.press(data(WaitCb(action=WaitAction.ASK, id=seeded.instant_session_id)))
    await chat.press(data(WaitCb(action=WaitAction.JOIN, id=seeded.instant_session_id, seats=seats)))


async def test_join_offer_claim_and_book_through_the_usual_screens(
    dp: Dispatcher,
    bot: Bot,
    recorder: RecordingSession,
    seeded: Seeded,
    sessions: async_sessionmaker,
    clock: FixedClock,
    sender: OutboxSender,
) -> None:
    first = await _sold_out(sessions, seeded, clock)
    sid = seeded.instant_session_id
    chat = Chat(dp, bot, recorder, TOURIST, language_code="ru", first_name="Olga")
    tr = dp["i18n"].translator("ru")
    await chat.send("/start")
    await chat.press_data(EventCb(event=seeded.instant_event_id).pack())
    assert any(tr.gettext("join the waitlist") in b for b in chat.buttons())  # the sold-out date
    await chat.press(data(WaitCb(action=WaitAction.ASK, id=sid)))
    assert tr.gettext("How many seats do you need?") in chat.last_text()
    await chat.press(data(WaitCb(action=WaitAction.JOIN, id=sid, seats=2)))
    [entry] = await _entries(sessions)
    assert (entry.user_id, entry.seats, entry.status) == (TOURIST, 2, "waiting")
    assert "🚪 " + tr.gettext("Leave the waitlist") in chat.buttons()
    await chat.press_data(WaitCb(action=WaitAction.JOIN, id=sid, seats=3).pack())  # the old screen's button again
    assert len(await _entries(sessions)) == 1

    await chat.send("/orders")
    assert any(b.startswith("⏳ " + tr.gettext("Waitlist")) for b in chat.buttons())

    await cancel_order(SqlUnitOfWork(sessions), BUYER, first, clock.now())
    jobs = DeadlineJobs(lambda: SqlUnitOfWork(sessions), clock)
    assert (await jobs.offer_freed_seats()).done == [sid]
    assert await sender.deliver_due() >= 1
    offer = chat.last_text()
    # 15 minutes from 09:00 UTC, in Tallinn's winter time, named with its zone
    assert "11:15" in offer and tr.gettext("Seats came free for you!") in offer
    assert await _seats_left(sessions, sid) == 2  # 4 freed, 2 held for the offer

    stranger = Chat(dp, bot, recorder, STRANGER, language_code="en", first_name="Eve")
    await stranger.send("/start")
    await stranger.press_data(WaitCb(action=WaitAction.CLAIM, id=entry.id).pack())
    assert stranger.alerts()[0].text == dp["i18n"].translator("en").gettext("This waitlist entry is not available.")
    await stranger.press_data(WaitCb(action=WaitAction.DECLINE, id=entry.id).pack())
    assert (await _entries(sessions))[0].status == "offered" and await _seats_left(sessions, sid) == 2

    await chat.press(lambda b: bool(b.callback_data == WaitCb(action=WaitAction.CLAIM, id=entry.id).pack()))
    await chat.press(data(BookCb(action=BookAction.INC, session=sid, value=0)))  # a third: more than offered
    assert chat.alerts() and chat.alerts()[0].show_alert
    await chat.press(data(BookCb(action=BookAction.NEXT, session=sid)))
    await chat.press(data(BookCb(action=BookAction.CONFIRM, session=sid)))
    async with sessions() as db:
        order = await db.scalar(select(OrderRow).where(OrderRow.user_id == TOURIST))
    assert order is not None and order.booking == BookingStatus.CONFIRMED.value
    assert (await _entries(sessions))[0].status == "claimed" and await _seats_left(sessions, sid) == 2

    claim = WaitCb(action=WaitAction.CLAIM, id=entry.id).pack()
    await chat.press_data(claim)  # the offer's button once more
    assert chat.alerts()[0].text == tr.gettext("Sorry, this offer is no longer open.")
    async with sessions() as db:
        orders = list(await db.scalars(select(OrderRow).where(OrderRow.user_id == TOURIST)))
    assert len(orders) == 1 and await _seats_left(sessions, sid) == 2


async def test_no_thanks_passes_on_and_an_unclaimed_offer_expires_with_a_message(
    dp: Dispatcher,
    bot: Bot,
    recorder: RecordingSession,
    seeded: Seeded,
    sessions: async_sessionmaker,
    clock: FixedClock,
    sender: OutboxSender,
) -> None:
    first = await _sold_out(sessions, seeded, clock)
    sid = seeded.instant_session_id
    one = Chat(dp, bot, recorder, TOURIST, language_code="en", first_name="Anna")
    two = Chat(dp, bot, recorder, STRANGER, language_code="de", first_name="Eva")
    await _join(one, seeded, 4)
    await _join(two, seeded, 4)
    await cancel_order(SqlUnitOfWork(sessions), BUYER, first, clock.now())
    jobs = DeadlineJobs(lambda: SqlUnitOfWork(sessions), clock)
    await jobs.offer_freed_seats()
    await sender.deliver_due()
    en = dp["i18n"].translator("en")
    await one.press(en.gettext("No thanks"))
    assert one.alerts()[0].text == en.gettext("The seats pass on to the next person.")
    await jobs.offer_freed_seats()
    await sender.deliver_due()
    de = dp["i18n"].translator("de")
    assert de.gettext("Seats came free for you!") in two.last_text()

    clock.advance(minutes=15)
    assert len((await jobs.expire_waitlist_offers()).done) == 1
    await sender.deliver_due()
    assert de.gettext("The seats offered to you were not claimed in time and passed on to the next person.") in (
        two.last_text()
    )
    assert [e.status for e in await _entries(sessions)] == ["left", "expired"]
    assert await _seats_left(sessions, sid) == 4


async def test_leaving_from_my_orders(
    dp: Dispatcher, bot: Bot, recorder: RecordingSession, seeded: Seeded, sessions, clock: FixedClock
) -> None:
    await _sold_out(sessions, seeded, clock)
    chat = Chat(dp, bot, recorder, TOURIST, language_code="en", first_name="Anna")
    await _join(chat, seeded, 1)
    await chat.press(data(MenuCb(action=MenuAction.ORDERS)))
    await chat.press(lambda b: bool(b.text.startswith("⏳")))
    await chat.press(lambda b: bool(b.callback_data and b.callback_data.startswith("w:l:")))
    tr = dp["i18n"].translator("en")
    assert chat.alerts()[0].text == tr.gettext("You left the waitlist.")
    assert [e.status for e in await _entries(sessions)] == ["left"]
    await chat.press(data(MenuCb(action=MenuAction.ORDERS)))
    assert not any(b.startswith("⏳") for b in chat.buttons())
    await chat.press_data(WaitCb(action=WaitAction.VIEW, id=999).pack())  # forged
    assert chat.alerts()[0].text == tr.gettext("This waitlist entry is not available.")
