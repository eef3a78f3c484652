"""Loyalty points through the real dispatcher (issue 15): "Use my points" on the booking summary (and the refusals:
beyond the balance, beyond the limit, spent meanwhile), the points back when the booking is cancelled, Profile's
balance and "My points" with the history and the referral link, and referral links (a new guest, one's own, a
second one, a guest who is not new)."""

from __future__ import annotations

import itertools
from datetime import timedelta

from aiogram import Bot, Dispatcher
from sqlalchemy import select

from bot.storage.loyalty_tables import PointsEntryRow, ReferralRow
from bot.storage.tables import OrderRow
from bot.storage.uow import SqlUnitOfWork
from domain.model.points import PointsEntry, PointsReason
from handlers.tourist.callbacks import (
    BookAction,
    BookCb,
    MenuAction,
    MenuCb,
    OrderAction,
    OrderCb,
    ProfileAction,
    ProfileCb,
)
from tests.handlers.chat import Chat
from tests.handlers.test_browse_booking import book_to_summary, data, order_rows
from tests.seed import Seeded, seed_user
from tests.telegram.recorder import BOT_USERNAME, RecordingSession

_friends = itertools.count(900_000)


async def give_points(sessions, clock, user_id: int, amount: int) -> None:
    """A movement of ``amount`` points (as a referral bonus would be) straight into the ledger."""
    uow = SqlUnitOfWork(sessions)
    async with uow:
        entry = PointsEntry(user_id, amount, PointsReason.REFERRAL, clock.now(), friend_id=next(_friends))
        assert await uow.points.add(entry)
        await uow.commit()


async def balance(sessions, user_id: int) -> int:
    uow = SqlUnitOfWork(sessions)
    async with uow.read():
        return await uow.points.balance(user_id)


async def ledger(sessions, user_id: int) -> list[tuple[str, int]]:
    async with sessions() as db:
        rows = await db.scalars(
            select(PointsEntryRow).where(PointsEntryRow.user_id == user_id).order_by(PointsEntryRow.id)
        )
        return [(row.reason, row.amount) for row in rows]


def points_press(seeded: Seeded, value: int) -> str:
    return BookCb(action=BookAction.POINTS, session=seeded.session_id, value=value).pack()


# ---- redeeming at checkout -------------------------------------------------------------------------------------------


async def test_points_pay_part_of_the_booking_and_are_spent_with_it(
    chat: Chat, seeded: Seeded, sessions, clock
) -> None:
    await chat.send("/start")
    await give_points(sessions, clock, chat.user_id, 2000)
    await book_to_summary(chat, seeded)  # one adult: €45.00
    assert any("Use my points: −€20.00" in b for b in chat.buttons())

    await chat.press_data(points_press(seeded, 2000))
    summary = chat.last_text()
    assert "Points used: 2,000 points: −€20.00" in summary and "Total: €25.00" in summary
    assert any("Don't use my points" in b for b in chat.buttons())

    await chat.press(data(BookCb(action=BookAction.CONFIRM, session=seeded.session_id)))
    [order] = await order_rows(sessions)
    assert (order.total_minor, order.points_used, order.subtotal_minor) == (2500, 2000, 4500)
    assert await balance(sessions, chat.user_id) == 0
    assert await ledger(sessions, chat.user_id) == [("referral", 2000), ("redeemed", -2000)]
    assert "Points used: 2,000 points: −€20.00" in chat.last_text()  # the booked order's card


async def test_points_can_be_taken_off_again(chat: Chat, seeded: Seeded, sessions, clock) -> None:
    await chat.send("/start")
    await give_points(sessions, clock, chat.user_id, 300)
    await book_to_summary(chat, seeded)
    await chat.press_data(points_press(seeded, 300))
    assert "Total: €42.00" in chat.last_text()
    await chat.press_data(points_press(seeded, 0))
    assert "Total: €45.00" in chat.last_text() and "Points used" not in chat.last_text()
    await chat.press(data(BookCb(action=BookAction.CONFIRM, session=seeded.session_id)))
    [order] = await order_rows(sessions)
    assert (order.total_minor, order.points_used) == (4500, 0)
    assert await balance(sessions, chat.user_id) == 300


async def test_a_forged_press_beyond_the_balance_is_refused(chat: Chat, seeded: Seeded, sessions, clock) -> None:
    await chat.send("/start")
    await give_points(sessions, clock, chat.user_id, 500)
    await book_to_summary(chat, seeded)
    await chat.press_data(points_press(seeded, 3000))
    assert chat.alerts()[-1].text == "You do not have that many points: your balance is 500 points."
    assert chat.alerts()[-1].show_alert
    assert "Total: €45.00" in chat.last_text() and "Points used" not in chat.last_text()
    await chat.press(data(BookCb(action=BookAction.CONFIRM, session=seeded.session_id)))
    [order] = await order_rows(sessions)
    assert order.points_used == 0 and await balance(sessions, chat.user_id) == 500


async def test_points_pay_at_most_half_of_a_booking(chat: Chat, seeded: Seeded, sessions, clock) -> None:
    await chat.send("/start")
    await give_points(sessions, clock, chat.user_id, 10_000)
    await book_to_summary(chat, seeded)
    assert any("Use my points: −€22.50" in b for b in chat.buttons())  # half of €45.00
    await chat.press_data(points_press(seeded, 4000))
    assert chat.alerts()[-1].text == "Points can pay at most 50% of a booking: here that is 2,250 points."
    assert "Points used" not in chat.last_text()
    await chat.press_data(points_press(seeded, -5))
    assert chat.alerts()[-1].show_alert and "Points used" not in chat.last_text()


async def test_points_spent_before_confirm_leave_the_booking_unplaced(
    chat: Chat, seeded: Seeded, sessions, clock
) -> None:
    await chat.send("/start")
    await give_points(sessions, clock, chat.user_id, 1000)
    await book_to_summary(chat, seeded)
    await chat.press_data(points_press(seeded, 1000))
    await give_points(sessions, clock, chat.user_id, -600)  # spent on another screen meanwhile
    await chat.press(data(BookCb(action=BookAction.CONFIRM, session=seeded.session_id)))
    assert chat.alerts()[-1].text == "You do not have that many points: your balance is 400 points."
    assert await order_rows(sessions) == []
    assert "Total: €45.00" in chat.last_text() and "Points used" not in chat.last_text()
    await chat.press(data(BookCb(action=BookAction.CONFIRM, session=seeded.session_id)))  # the redrawn summary
    [order] = await order_rows(sessions)
    assert order.points_used == 0


async def test_a_stale_points_button_changes_nothing(chat: Chat, seeded: Seeded, sessions, clock) -> None:
    await chat.send("/start")
    await give_points(sessions, clock, chat.user_id, 1000)
    await chat.press_data(points_press(seeded, 1000))  # no booking in progress
    assert chat.alerts()[-1].text == "This booking screen is out of date. Here is the current one."
    assert await balance(sessions, chat.user_id) == 1000


async def test_a_cancelled_booking_gives_its_points_back(chat: Chat, seeded: Seeded, sessions, clock) -> None:
    await chat.send("/start")
    await give_points(sessions, clock, chat.user_id, 1000)
    await book_to_summary(chat, seeded)
    await chat.press_data(points_press(seeded, 1000))
    await chat.press(data(BookCb(action=BookAction.CONFIRM, session=seeded.session_id)))
    [order] = await order_rows(sessions)
    assert await balance(sessions, chat.user_id) == 0
    await chat.press_data(OrderCb(action=OrderAction.CANCEL_CONFIRM, order=order.id).pack())
    await chat.press_data(OrderCb(action=OrderAction.CANCEL_CONFIRM, order=order.id).pack())  # a double tap
    assert await balance(sessions, chat.user_id) == 1000
    assert await ledger(sessions, chat.user_id) == [("referral", 1000), ("redeemed", -1000), ("returned", 1000)]


# ---- Profile and My points -------------------------------------------------------------------------------------------


async def test_profile_shows_the_balance_and_my_points_the_history_and_link(
    chat: Chat, seeded: Seeded, sessions, clock
) -> None:
    await chat.send("/start")
    await give_points(sessions, clock, chat.user_id, 1250)
    await chat.send("/profile")
    assert "Points: 1,250 points" in chat.last_text()
    await chat.press(data(ProfileCb(action=ProfileAction.POINTS)))
    screen = chat.last_text()
    assert "Balance: 1,250 points" in screen
    assert "+1,250 referral bonus" in screen
    async with sessions() as db:
        token = await db.scalar(select(ReferralRow.token).where(ReferralRow.user_id == chat.user_id))
    assert f"https://t.me/{BOT_USERNAME}?start=ref-{token}" in screen
    assert "📋 Copy my link" in chat.buttons()
    await chat.press_data(ProfileCb(action=ProfileAction.POINTS).pack())  # again: the link stays the same
    async with sessions() as db:
        assert await db.scalar(select(ReferralRow.token).where(ReferralRow.user_id == chat.user_id)) == token


async def test_a_booking_summary_without_points_offers_none(chat: Chat, seeded: Seeded) -> None:
    await chat.send("/start")
    await book_to_summary(chat, seeded)
    assert not any("Use my points" in b for b in chat.buttons())
    assert any("Have a code?" in b for b in chat.buttons())


# ---- referral links --------------------------------------------------------------------------------------------------


async def _link_of(chat: Chat, sessions) -> str:
    await chat.press(data(MenuCb(action=MenuAction.PROFILE)))
    await chat.press(data(ProfileCb(action=ProfileAction.POINTS)))
    async with sessions() as db:
        return await db.scalar(select(ReferralRow.token).where(ReferralRow.user_id == chat.user_id))


async def referred_by(sessions, user_id: int) -> int | None:
    async with sessions() as db:
        return await db.scalar(select(ReferralRow.referred_by).where(ReferralRow.user_id == user_id))


async def test_a_new_guest_is_linked_once_and_not_to_themselves(
    chat: Chat, dp: Dispatcher, bot: Bot, recorder: RecordingSession, seeded: Seeded, sessions
) -> None:
    await chat.send("/start")
    token = await _link_of(chat, sessions)

    await chat.send(f"/start ref-{token}")  # one's own link
    assert "That is your own invitation link" in chat.last_text()
    assert await referred_by(sessions, chat.user_id) is None

    friend = Chat(dp, bot, recorder, 3001, first_name="Jaan")
    await friend.send(f"/start ref-{token}")
    assert "You joined with a friend's invitation" in friend.last_text()
    assert "What would you like to do?" in friend.last_text()
    assert await referred_by(sessions, 3001) == chat.user_id

    other = Chat(dp, bot, recorder, 3002, first_name="Mia")
    await other.send("/start")
    other_token = await _link_of(other, sessions)
    await friend.send(f"/start ref-{other_token}")  # a second link
    assert "You have already joined with a friend's invitation." in friend.last_text()
    assert await referred_by(sessions, 3001) == chat.user_id

    await friend.send("/start ref-nosuchtoken")
    assert "already joined" in friend.last_text()


async def test_a_guest_who_is_not_new_is_not_linked(
    chat: Chat, dp: Dispatcher, bot: Bot, recorder: RecordingSession, seeded: Seeded, sessions, clock
) -> None:
    await chat.send("/start")
    token = await _link_of(chat, sessions)
    await seed_user(sessions, 3003, now=clock.now() - timedelta(days=3), first_name="Old")
    old = Chat(dp, bot, recorder, 3003, first_name="Old")
    await old.send(f"/start ref-{token}")
    assert "Invitation links are for new guests" in old.last_text()
    assert await referred_by(sessions, 3003) is None

    stranger = Chat(dp, bot, recorder, 3004, first_name="Ann")
    await stranger.send("/start ref-nosuchtoken")
    assert "That invitation link is not valid." in stranger.last_text()


async def test_a_guest_who_booked_already_is_not_new(
    chat: Chat, dp: Dispatcher, bot: Bot, recorder: RecordingSession, seeded: Seeded, sessions
) -> None:
    await chat.send("/start")
    token = await _link_of(chat, sessions)
    booker = Chat(dp, bot, recorder, 3005, first_name="Eva")
    await booker.send("/start")
    await book_to_summary(booker, seeded)
    await booker.press(data(BookCb(action=BookAction.CONFIRM, session=seeded.session_id)))
    assert len(await order_rows(sessions)) == 1
    await booker.send(f"/start ref-{token}")
    assert "Invitation links are for new guests" in booker.last_text()
    async with sessions() as db:
        assert await db.scalar(select(OrderRow.id)) is not None
    assert await referred_by(sessions, 3005) is None
