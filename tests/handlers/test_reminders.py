"""What the deadline jobs send, as Telegram sees it: rendered at send time in the recipient's language, with the
buttons that fit, and nothing at all when the message no longer makes sense."""

from __future__ import annotations

from datetime import timedelta

import pytest
from aiogram import Bot, Dispatcher
from sqlalchemy import select, update

from bot.outbox import OutboxSender
from bot.ratelimit import Limits
from bot.storage.tables import OrderRow, OutboxRow
from bot.storage.uow import SqlUnitOfWork
from domain.model.catalog import BOOKING_CUTOFF
from domain.model.orders import BookingStatus, Order, format_order_code
from domain.use_cases.booking import PlaceOrder, place_order
from handlers.tourist.callbacks import EventCb, OrderAction, OrderCb
from scheduler.jobs import DeadlineJobs
from tests.handlers.chat import Chat
from tests.seed import INSTANT_SESSION_IN, SESSION_IN, Seeded, seed_user
from tests.telegram.recorder import RecordingSession

ORGANISER_CHAT = 700001  # the cruise organiser (Estonian)
WALK_ORGANISER_CHAT = 700002  # the walk organiser (English)
TOURIST = 5001


@pytest.fixture
def sender(bot: Bot, sessions, dp: Dispatcher, clock) -> OutboxSender:
    return OutboxSender(bot, sessions, dp["i18n"], clock, limits=Limits.unlimited())


@pytest.fixture
def jobs(sessions, clock) -> DeadlineJobs:
    return DeadlineJobs(lambda: SqlUnitOfWork(sessions), clock)


async def walk(
    sessions,
    seeded: Seeded,
    clock,
    language: str = "ru",
    payments: bool = False,
    user_id: int = TOURIST,
) -> Order:
    await seed_user(sessions, user_id, language=language, now=clock.now(), hotel_id=seeded.hotel_id)
    return await place_order(
        SqlUnitOfWork(sessions),
        PlaceOrder(
            user_id=user_id, session_id=seeded.instant_session_id, quantities={"adult": 2}, payments_enabled=payments
        ),
        clock.now(),
    )


async def cruise(sessions, seeded: Seeded, clock) -> Order:
    await seed_user(sessions, TOURIST, language="en", now=clock.now(), hotel_id=seeded.hotel_id)
    return await place_order(
        SqlUnitOfWork(sessions),
        PlaceOrder(
            user_id=TOURIST,
            session_id=seeded.session_id,
            quantities={"adult": 2},
            answers={"pickup": "Hotel Viru", "lunch": "veg"},
        ),
        clock.now(),
    )


async def statuses(sessions) -> dict[str, str]:
    async with sessions() as db:
        return dict((await db.execute(select(OutboxRow.kind, OutboxRow.status))).tuples().all())


async def test_the_session_reminder_in_the_tourist_s_language_and_the_region_s_time(
    dp,
    bot,
    recorder: RecordingSession,
    sender,
    jobs,
    sessions,
    seeded,
    clock,
) -> None:
    tourist = Chat(dp, bot, recorder, TOURIST, language_code="ru")
    order = await walk(sessions, seeded, clock)
    await sender.deliver_due()
    clock.advance(seconds=(INSTANT_SESSION_IN - timedelta(hours=2)).total_seconds())
    assert len((await jobs.send_due_reminders()).done) == 1
    assert await sender.deliver_due() >= 1
    ru = dp["i18n"].translator("ru")
    text = tourist.last_text()
    # the walk starts at 09:00 UTC: 11:00 in Tallinn (winter time)
    assert "11:00" in text and "Ратушная площадь" in text and "Прогулка по Старому городу" in text
    assert format_order_code(order.code) in text
    assert tourist.buttons() == ["🎟 " + ru.gettext("Open the order")]


async def test_a_reminder_for_an_order_cancelled_meanwhile_is_not_sent(
    dp,
    bot,
    recorder,
    sender,
    jobs,
    sessions,
    seeded,
    clock,
) -> None:
    order = await walk(sessions, seeded, clock)
    clock.advance(seconds=(INSTANT_SESSION_IN - timedelta(hours=2)).total_seconds())
    await jobs.send_due_reminders()
    async with sessions() as db, db.begin():  # cancelled between the job and the sender
        await db.execute(update(OrderRow).where(OrderRow.id == order.id).values(booking="cancelled"))
    await sender.deliver_due()
    assert (await statuses(sessions))["tourist.session_reminder"] == "dead"
    assert [r for r in recorder.calls("sendMessage") if r.params["chat_id"] == TOURIST] == []


async def test_the_pay_reminder_and_the_expiry_with_a_button_to_book_again(
    dp,
    bot,
    recorder,
    sender,
    jobs,
    sessions,
    seeded,
    clock,
) -> None:
    tourist = Chat(dp, bot, recorder, TOURIST, language_code="en")
    order = await walk(sessions, seeded, clock, language="en", payments=True)
    clock.advance(minutes=30)
    assert (await jobs.remind_unpaid()).done == [order.id]
    await sender.deliver_due()
    en = dp["i18n"].translator("en")
    text = tourist.last_text()
    assert "is not paid yet" in text and format_order_code(order.code) in text
    assert tourist.buttons() == ["🎟 " + en.gettext("Open the order")]
    # the grace: half of the 30 minutes to pay, shown in Tallinn time (09:45 UTC -> 11:45)
    assert "11:45" in text

    clock.advance(minutes=15)
    assert (await jobs.expire_overdue()).done == [order.id]
    await sender.deliver_due()
    assert "has expired" in tourist.last_text()
    [button] = [b for row in tourist.last_message().reply_markup.inline_keyboard for b in row]
    assert button.callback_data == EventCb(event=seeded.instant_event_id).pack()
    await tourist.press(button.text)  # "Book again" opens the event with its dates
    assert "Old Town walk" in tourist.last_text()


async def test_a_pay_reminder_for_an_order_paid_meanwhile_is_not_sent(
    dp,
    bot,
    recorder,
    sender,
    jobs,
    sessions,
    seeded,
    clock,
) -> None:
    order = await walk(sessions, seeded, clock, payments=True)
    await sender.deliver_due()  # the invoice
    clock.advance(minutes=30)
    await jobs.remind_unpaid()
    async with sessions() as db, db.begin():
        await db.execute(update(OrderRow).where(OrderRow.id == order.id).values(payment="paid"))
    await sender.deliver_due()
    assert (await statuses(sessions))["tourist.pay_reminder"] == "dead"


async def test_the_silent_organiser_is_nudged_in_their_language_and_can_confirm_from_the_nudge(
    dp,
    bot,
    recorder,
    sender,
    jobs,
    sessions,
    seeded,
    clock,
) -> None:
    organiser = Chat(dp, bot, recorder, ORGANISER_CHAT, language_code="et", first_name="Kapten")
    order = await cruise(sessions, seeded, clock)
    await sender.deliver_due()  # the booking request
    clock.advance(minutes=10)
    assert (await jobs.nudge_silent_organisers()).done == [order.id]
    await sender.deliver_due()
    et = dp["i18n"].translator("et")
    text = organiser.last_text()
    assert format_order_code(order.code) in text
    assert "Saarte kruiis" in text and "Hotel Viru" in text and "Taimetoit" in text  # the request's essentials
    assert organiser.buttons() == ["✅ " + et.gettext("Confirm"), "❌ " + et.gettext("Decline")]
    await organiser.press("✅ " + et.gettext("Confirm"))
    async with sessions() as db:
        assert (await db.get(OrderRow, order.id)).booking == BookingStatus.CONFIRMED
    assert (await jobs.nudge_silent_organisers()).claimed == 0


async def test_the_organiser_gets_the_participant_list(
    dp,
    bot,
    recorder,
    sender,
    jobs,
    sessions,
    seeded,
    clock,
) -> None:
    organiser = Chat(dp, bot, recorder, ORGANISER_CHAT, language_code="et", first_name="Kapten")
    order = await cruise(sessions, seeded, clock)
    await sender.deliver_due()
    await organiser.send("+", reply_to=organiser.last_message().message_id)
    clock.advance(seconds=(SESSION_IN - timedelta(hours=2)).total_seconds())  # the smallest offset: 2 h before
    assert len((await jobs.send_participant_lists()).done) == 1
    await sender.deliver_due()
    et = dp["i18n"].translator("et")
    texts = [r.params["text"] for r in recorder.calls("sendMessage") if r.params["chat_id"] == ORGANISER_CHAT]
    [listing] = [t for t in texts if "👥" in t]
    assert format_order_code(order.code) in listing and "Saarte kruiis" in listing
    assert "Hotel Viru" in listing and "Taimetoit" in listing and "Hotel Telegraaf" in listing
    assert et.gettext("Adult") in listing


async def test_an_order_awaiting_the_organiser_expires_at_the_cutoff_and_the_tourist_is_told(
    dp,
    bot,
    recorder,
    sender,
    jobs,
    sessions,
    seeded,
    clock,
) -> None:
    tourist = Chat(dp, bot, recorder, TOURIST, language_code="en")
    order = await cruise(sessions, seeded, clock)
    clock.advance(seconds=(SESSION_IN - BOOKING_CUTOFF).total_seconds())
    await jobs.run_all()
    await sender.deliver_due()
    assert "has expired" in tourist.last_text()
    assert "did not confirm it in time" in tourist.last_text()
    await tourist.press_data(OrderCb(action=OrderAction.VIEW, order=order.id).pack())
    assert "expired" in tourist.last_text()


async def test_a_paid_order_s_reminder_carries_its_ticket(
    dp,
    bot,
    recorder,
    sender,
    jobs,
    sessions,
    seeded,
    clock,
) -> None:
    tourist = Chat(dp, bot, recorder, TOURIST, language_code="en")
    order = await walk(sessions, seeded, clock, language="en")
    async with sessions() as db, db.begin():
        await db.execute(
            update(OrderRow)
            .where(OrderRow.id == order.id)
            .values(payment="paid", ticket="issued", ticket_code="TKT-ACD-EFH-JKM")
        )
    clock.advance(seconds=(INSTANT_SESSION_IN - timedelta(hours=2)).total_seconds())
    await jobs.send_due_reminders()
    await sender.deliver_due()
    text = tourist.last_text()
    assert "TKT-ACD-EFH-JKM" in text and "Town Hall Square" in text and "11:00" in text
    assert "Show the order code at the meeting point" in text
