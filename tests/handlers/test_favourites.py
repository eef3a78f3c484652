"""Favourites through the real dispatcher (issue 15): ☆/★ on the event card (twice, a stale press, a forged event),
"My favourites" with each one's next date or that it is not on sale, ✖ and the alerts switch; the alerts jobs: new
dates told once per guest and session and never to a guest who blocked the bot, seats again only after the waitlist
had its turn; Share on the card, and the ticket code's copy button."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import timedelta

import pytest
from aiogram import Bot, Dispatcher
from aiogram.types import InlineKeyboardButton
from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.outbox import OutboxSender
from bot.storage.favourite_tables import FavouriteRow
from bot.storage.tables import OrderRow, OutboxRow, SessionRow, UserRow
from bot.storage.uow import SqlUnitOfWork
from domain.model.favourites import MAX_FAVOURITES, FavouritesFull
from domain.model.messages import OutboxKind, order_message
from domain.use_cases.booking import PlaceOrder, cancel_order, place_order
from domain.use_cases.favourites import add_favourite, alert_new_dates, alert_seats_again
from domain.use_cases.profile import delete_personal_data
from domain.use_cases.waitlist import join_waitlist, leave_waitlist
from handlers.tourist.callbacks import EventCb, FavAction, FavCb, MenuAction, MenuCb, OrderAction, OrderCb
from scheduler.jobs import DeadlineJobs
from tests.fakes import FixedClock, add_user, fake_world
from tests.handlers.chat import Chat
from tests.handlers.conftest import TOURIST_ID
from tests.seed import Seeded, seed_users
from tests.telegram.recorder import RecordingSession

BUYER, OTHER, WAITER, FAN, BLOCKED = 2201, 2202, 2203, 2204, 2205


def data(cb: object) -> Callable[[InlineKeyboardButton], bool]:
    packed = cb.pack()  # type: ignore[attr-defined]
    return lambda button: button.callback_data == packed


async def favourites(sessions: async_sessionmaker, user_id: int = TOURIST_ID) -> list[FavouriteRow]:
    async with sessions() as db:
        return list(await db.scalars(select(FavouriteRow).where(FavouriteRow.user_id == user_id)))


async def outbox(sessions: async_sessionmaker, kind: OutboxKind) -> list[OutboxRow]:
    async with sessions() as db:
        return list(await db.scalars(select(OutboxRow).where(OutboxRow.kind == kind.value).order_by(OutboxRow.id)))


async def new_session(sessions: async_sessionmaker, event_id: int, starts_at, capacity: int = 8) -> int:
    async with sessions() as db, db.begin():
        return int(
            await db.scalar(
                insert(SessionRow)
                .values(event_id=event_id, starts_at=starts_at, capacity=capacity, seats_left=capacity)
                .returning(SessionRow.id)
            )
        )


def card_button(chat: Chat, start: str) -> dict:
    message = chat.last_message()
    assert message.reply_markup is not None
    found = [b for row in message.reply_markup.inline_keyboard for b in row if b.text.startswith(start)]
    assert len(found) == 1, [b.text for row in message.reply_markup.inline_keyboard for b in row]
    return found[0].model_dump(exclude_none=True)


# ---- the card -----------------------------------------------------------------------------------------------------


async def test_the_star_on_the_card_adds_then_removes_and_a_stale_press_changes_nothing(
    chat: Chat, seeded: Seeded, sessions: async_sessionmaker
) -> None:
    await chat.send("/start")
    await chat.press_data(EventCb(event=seeded.event_id).pack())
    assert "☆ Add to favourites" in chat.buttons()

    await chat.press("☆ Add to favourites")
    assert chat.alerts()[0].text == "⭐ Added to your favourites."
    assert "★ In favourites" in chat.buttons() and "Islands cruise" in chat.last_text()
    [row] = await favourites(sessions)
    assert (row.event_id, row.alerts) == (seeded.event_id, True)
    assert row.seen_session_id >= seeded.cancelled_session_id  # only dates added from now on are news

    # the same ☆ pressed again on an old copy of the card: still one favourite
    await chat.press_data(FavCb(action=FavAction.ADD, event=seeded.event_id).pack())
    assert len(await favourites(sessions)) == 1

    await chat.press("★ In favourites")
    assert chat.alerts()[0].text == "Removed from your favourites."
    assert "☆ Add to favourites" in chat.buttons()
    assert await favourites(sessions) == []
    await chat.press_data(FavCb(action=FavAction.REMOVE, event=seeded.event_id).pack())  # stale: nothing to remove
    assert await favourites(sessions) == [] and "☆ Add to favourites" in chat.buttons()


async def test_a_forged_event_is_refused_and_changes_nothing(
    chat: Chat, seeded: Seeded, sessions: async_sessionmaker
) -> None:
    await chat.send("/start")
    await chat.press_data(FavCb(action=FavAction.ADD, event=987654).pack())
    [alert] = chat.alerts()
    assert alert.show_alert and alert.text == "This event is no longer available."
    await chat.press_data("fv:a:not-a-number")  # does not parse: the fallback answers it
    await chat.press_data(FavCb(action=FavAction.ALERTS_ON, event=seeded.event_id).pack())  # not a favourite
    assert chat.alerts()[0].text == "This event is not among your favourites any more."
    assert await favourites(sessions) == []


async def test_the_number_of_favourites_is_bounded(clock: FixedClock) -> None:
    uow, seeded = fake_world(clock.now())
    add_user(uow.state, TOURIST_ID)
    cruise = uow.state.events[seeded.event_id]
    for extra in range(1, MAX_FAVOURITES + 1):  # more events than one guest may keep
        uow.state.events[1000 + extra] = dataclasses.replace(cruise, id=1000 + extra, code=f"extra-{extra}")
    for extra in range(1, MAX_FAVOURITES + 1):
        assert await add_favourite(uow, TOURIST_ID, 1000 + extra, clock.now())
    with pytest.raises(FavouritesFull):
        await add_favourite(uow, TOURIST_ID, seeded.event_id, clock.now())
    assert len(uow.state.favourites) == MAX_FAVOURITES
    assert not await add_favourite(uow, TOURIST_ID, 1001, clock.now())  # one there already: no error, no change


async def test_share_on_the_card_picks_a_chat_and_names_the_event(chat: Chat, seeded: Seeded) -> None:
    await chat.send("/start")
    await chat.press_data(EventCb(event=seeded.event_id).pack())
    share = card_button(chat, "↗️")
    assert share["text"] == "↗️ Share"
    assert share["switch_inline_query_chosen_chat"] == {
        "query": "Islands cruise",
        "allow_user_chats": True,
        "allow_group_chats": True,
        "allow_channel_chats": True,
    }


# ---- My favourites ------------------------------------------------------------------------------------------------


async def test_my_favourites_lists_the_next_date_or_that_it_is_not_on_sale_and_drops_one(
    chat: Chat, seeded: Seeded, sessions: async_sessionmaker
) -> None:
    await chat.send("/start")
    await chat.press("⭐ My favourites")
    assert "Nothing here yet" in chat.last_text() and "🗺 Events" in chat.buttons()

    for event_id in (seeded.event_id, seeded.instant_event_id):
        await chat.press_data(EventCb(event=event_id).pack())
        await chat.press("☆ Add to favourites")
    async with sessions() as db, db.begin():  # the walk's only date is called off
        await db.execute(
            update(SessionRow).where(SessionRow.id == seeded.instant_session_id).values(status="cancelled")
        )

    await chat.press_data(MenuCb(action=MenuAction.FAVOURITES).pack())
    text = chat.last_text()
    assert "My favourites" in text
    walk_line, cruise_line = [line for line in text.splitlines() if line[:2] in ("1.", "2.")]
    assert walk_line.startswith("1. Old Town walk") and "not on sale right now" in walk_line  # newest first
    assert cruise_line.startswith("2. Islands cruise") and "next date:" in cruise_line and "Tallinn" in cruise_line
    assert chat.keyboard()[0] == ["1. Old Town walk", "🔔", "✖️"]

    await chat.press(data(FavCb(action=FavAction.ALERTS_OFF, event=seeded.instant_event_id)))
    assert chat.alerts()[0].text == "Alerts off."
    assert chat.keyboard()[0] == ["1. Old Town walk", "🔕", "✖️"]
    assert {r.event_id: r.alerts for r in await favourites(sessions)} == {
        seeded.instant_event_id: False,
        seeded.event_id: True,
    }
    drop = FavCb(action=FavAction.DROP, event=seeded.instant_event_id)
    await chat.press(data(drop))
    assert [r.event_id for r in await favourites(sessions)] == [seeded.event_id]
    await chat.press_data(drop.pack())  # the same ✖ again (an old copy of the list)
    assert chat.alerts()[0].text == "This event is not among your favourites any more."
    assert chat.keyboard()[0][0] == "1. Islands cruise"
    await chat.press("1. Islands cruise")  # opens its card, starred
    assert "★ In favourites" in chat.buttons()

    await chat.send("/favourites")
    assert "Islands cruise" in chat.last_text()


async def test_favourites_go_with_the_guest_s_data(
    chat: Chat, seeded: Seeded, sessions: async_sessionmaker, clock: FixedClock
) -> None:
    await chat.send("/start")
    await add_favourite(SqlUnitOfWork(sessions), TOURIST_ID, seeded.event_id, clock.now())
    await delete_personal_data(SqlUnitOfWork(sessions), TOURIST_ID, clock.now())
    assert await favourites(sessions) == []


# ---- the alerts ---------------------------------------------------------------------------------------------------


@pytest.fixture
def jobs(sessions: async_sessionmaker, clock: FixedClock) -> DeadlineJobs:
    return DeadlineJobs(lambda: SqlUnitOfWork(sessions), clock)


async def test_new_dates_are_told_once_per_guest_and_session_never_to_a_blocked_guest(
    dp: Dispatcher,
    bot: Bot,
    recorder: RecordingSession,
    seeded: Seeded,
    sessions: async_sessionmaker,
    clock: FixedClock,
    sender: OutboxSender,
    jobs: DeadlineJobs,
) -> None:
    chat = Chat(dp, bot, recorder, FAN, language_code="de", first_name="Fritz")
    await chat.send("/start")
    await seed_users(sessions, [BLOCKED], clock.now())
    for user_id in (FAN, BLOCKED):
        await add_favourite(SqlUnitOfWork(sessions), user_id, seeded.event_id, clock.now())
    async with sessions() as db, db.begin():
        await db.execute(update(UserRow).where(UserRow.id == BLOCKED).values(blocked_bot=True))
    await jobs.run_all()
    assert await outbox(sessions, OutboxKind.FAVOURITE_NEW_DATES) == []  # nothing new yet

    first = await new_session(sessions, seeded.event_id, clock.now() + timedelta(days=9))
    second = await new_session(sessions, seeded.event_id, clock.now() + timedelta(days=10))
    await jobs.run_all()
    [row] = await outbox(sessions, OutboxKind.FAVOURITE_NEW_DATES)
    assert (row.chat_id, row.payload["sessions"]) == (FAN, [first, second])
    await jobs.run_all()
    assert len(await outbox(sessions, OutboxKind.FAVOURITE_NEW_DATES)) == 1  # never twice

    assert await sender.deliver_due() >= 1
    text = chat.last_text()
    assert text.startswith("⭐ Neue Termine für Inselkreuzfahrt:") and text.count("•") == 2  # in German
    assert "🗺" in " ".join(chat.buttons())

    third = await new_session(sessions, seeded.event_id, clock.now() + timedelta(days=11))
    await jobs.run_all()
    rows = await outbox(sessions, OutboxKind.FAVOURITE_NEW_DATES)
    assert [r.payload["sessions"] for r in rows] == [[first, second], [third]]
    assert all(r.chat_id == FAN for r in rows)

    # alerts off: a new date is not told, and turning them on again does not tell the dates added meanwhile
    await chat.send("/favourites")
    await chat.press(data(FavCb(action=FavAction.ALERTS_OFF, event=seeded.event_id)))
    await new_session(sessions, seeded.event_id, clock.now() + timedelta(days=12))
    await jobs.run_all()
    await chat.press(data(FavCb(action=FavAction.ALERTS_ON, event=seeded.event_id)))
    await jobs.run_all()
    assert len(await outbox(sessions, OutboxKind.FAVOURITE_NEW_DATES)) == 2


async def _sold_out_walk(sessions: async_sessionmaker, seeded: Seeded, clock: FixedClock) -> int:
    """The walk's 10 seats sold (4 and 6); the 4-seat order's id."""
    await seed_users(sessions, [BUYER, OTHER, WAITER], clock.now())
    sid = seeded.instant_session_id
    first = await place_order(SqlUnitOfWork(sessions), PlaceOrder(BUYER, sid, {"adult": 4}), clock.now())
    await place_order(SqlUnitOfWork(sessions), PlaceOrder(OTHER, sid, {"adult": 6}), clock.now())
    return first.stored_id


async def test_seats_again_go_to_the_waitlist_first_then_to_the_favourites_once(
    dp: Dispatcher,
    bot: Bot,
    recorder: RecordingSession,
    seeded: Seeded,
    sessions: async_sessionmaker,
    clock: FixedClock,
    sender: OutboxSender,
    jobs: DeadlineJobs,
) -> None:
    chat = Chat(dp, bot, recorder, FAN, language_code="en", first_name="Fan")
    await chat.send("/start")
    first = await _sold_out_walk(sessions, seeded, clock)
    sid = seeded.instant_session_id
    await add_favourite(SqlUnitOfWork(sessions), FAN, seeded.instant_event_id, clock.now())
    entry = (await join_waitlist(SqlUnitOfWork(sessions), WAITER, sid, 4, clock.now())).entry
    await jobs.run_all()  # the sold-out date is watched

    await cancel_order(SqlUnitOfWork(sessions), BUYER, first, clock.now())  # 4 seats free
    await jobs.run_all()
    assert len(await outbox(sessions, OutboxKind.WAITLIST_OFFER)) == 1  # the waitlist took them
    assert await outbox(sessions, OutboxKind.FAVOURITE_SEATS) == []

    await leave_waitlist(SqlUnitOfWork(sessions), WAITER, entry.stored_id, clock.now())  # no thanks: free again
    await jobs.run_all()
    [row] = await outbox(sessions, OutboxKind.FAVOURITE_SEATS)
    assert (row.chat_id, row.payload) == (FAN, {"session_id": sid})
    await jobs.run_all()
    assert len(await outbox(sessions, OutboxKind.FAVOURITE_SEATS)) == 1

    await sender.deliver_due()
    assert "has seats again" in chat.last_text() and "4 seats are free" in chat.last_text()
    assert "🎟 Book" in chat.buttons()


async def test_seats_nobody_waiting_can_take_go_to_the_favourites(
    seeded: Seeded, sessions: async_sessionmaker, clock: FixedClock, jobs: DeadlineJobs
) -> None:
    first = await _sold_out_walk(sessions, seeded, clock)
    sid = seeded.instant_session_id
    await seed_users(sessions, [FAN], clock.now())
    await add_favourite(SqlUnitOfWork(sessions), FAN, seeded.instant_event_id, clock.now())
    await join_waitlist(SqlUnitOfWork(sessions), WAITER, sid, 5, clock.now())  # wants 5: 4 will not do
    assert (await alert_seats_again(SqlUnitOfWork(sessions), clock.now())).claimed == 0  # watched, no seats
    await cancel_order(SqlUnitOfWork(sessions), BUYER, first, clock.now())
    await jobs.run_all()
    assert await outbox(sessions, OutboxKind.WAITLIST_OFFER) == []
    assert [r.chat_id for r in await outbox(sessions, OutboxKind.FAVOURITE_SEATS)] == [FAN]
    # sold out again and freed again: the same guest is not told twice about the same date
    await place_order(SqlUnitOfWork(sessions), PlaceOrder(BUYER, sid, {"adult": 4}), clock.now())
    await jobs.run_all()
    async with sessions() as db:
        assert await db.scalar(select(func.count()).select_from(OutboxRow)) >= 1
    assert len(await outbox(sessions, OutboxKind.FAVOURITE_SEATS)) == 1
    assert (await alert_new_dates(SqlUnitOfWork(sessions), clock.now())).claimed == 0


# ---- the ticket code's copy button --------------------------------------------------------------------------------


async def test_the_ticket_and_the_order_card_have_a_copy_code_button(
    chat: Chat, seeded: Seeded, sessions: async_sessionmaker, clock: FixedClock, sender: OutboxSender
) -> None:
    await chat.send("/start")
    order = await place_order(
        SqlUnitOfWork(sessions), PlaceOrder(TOURIST_ID, seeded.instant_session_id, {"adult": 1}), clock.now()
    )
    async with sessions() as db, db.begin():
        await db.execute(
            update(OrderRow)
            .where(OrderRow.id == order.stored_id)
            .values(payment="paid", ticket="issued", ticket_code="TKT-4F7Q")
        )
    uow = SqlUnitOfWork(sessions)
    async with uow:
        await uow.outbox.add(order_message(OutboxKind.TICKET, TOURIST_ID, order.stored_id, clock.now()))
        await uow.commit()
    await sender.deliver_due()
    photo = [r for r in chat.recorder.calls("sendPhoto") if r.params["chat_id"] == TOURIST_ID][-1]
    first_row = photo.params["reply_markup"]["inline_keyboard"][0]
    assert first_row == [{"text": "📋 Copy code", "copy_text": {"text": "TKT-4F7Q"}}]

    await chat.press_data(OrderCb(action=OrderAction.VIEW, order=order.stored_id).pack())
    copy = card_button(chat, "📋")
    assert copy == {"text": "📋 Copy code", "copy_text": {"text": "TKT-4F7Q"}}
