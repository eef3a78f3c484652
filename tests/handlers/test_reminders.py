"""What the deadline jobs send, as Telegram sees it: rendered at send time in the recipient's language, with the
buttons that fit, and nothing at all when the message no longer makes sense."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from aiogram import Bot, Dispatcher
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import async_sessionmaker

from bot.outbox import OutboxSender
from bot.ratelimit import Limits
from bot.storage.tables import OrderRow, OutboxRow
from bot.storage.uow import SqlUnitOfWork
from domain.model.catalog import BOOKING_CUTOFF
from domain.model.orders import BookingStatus, Order, format_order_code
from domain.use_cases.booking import PlaceOrder, place_order
from handlers.tourist.callbacks import Below, BelowCb, OrderAction, OrderCb
from scheduler.jobs import DeadlineJobs
from tests.fakes import FixedClock
from tests.handlers.chat import Chat
from tests.seed import INSTANT_SESSION_IN, SESSION_IN, Seeded, seed_user
from tests.telegram.recorder import RecordingSession

ORGANISER_CHAT = 700001  # the cruise organiser (Estonian)
WALK_ORGANISER_CHAT = 700002  # the walk organiser (English)
TOURIST = 5001


@dataclass
class Deadlines:
    """Everything a test here works with: the bot, the deadline jobs, the outbox sender that delivers what they
    queue, the database with its seeded catalog and the clock the jobs read."""

    dp: Dispatcher
    bot: Bot
    recorder: RecordingSession
    sender: OutboxSender
    jobs: DeadlineJobs
    sessions: async_sessionmaker
    seeded: Seeded
    clock: FixedClock

    def chat(self, user_id: int, language: str, **names: Any) -> Chat:
        return Chat(self.dp, self.bot, self.recorder, user_id, language_code=language, **names)

    def organiser(self) -> Chat:
        return self.chat(ORGANISER_CHAT, "et", first_name="Kapten")

    def translator(self, language: str) -> Any:
        return self.dp["i18n"].translator(language)

    def advance(self, delta: timedelta) -> None:
        self.clock.advance(seconds=delta.total_seconds())

    async def walk(self, language: str = "ru", payments: bool = False) -> Order:
        """Tourist 5001 books two adults on the instant walk (confirmed at once)."""
        seeded = self.seeded
        await seed_user(self.sessions, TOURIST, language=language, now=self.clock.now(), hotel_id=seeded.hotel_id)
        return await place_order(
            SqlUnitOfWork(self.sessions),
            PlaceOrder(
                user_id=TOURIST,
                session_id=seeded.instant_session_id,
                quantities={"adult": 2},
                payments_enabled=payments,
            ),
            self.clock.now(),
        )

    async def cruise(self) -> Order:
        """Tourist 5001 (English) asks for two adults on the cruise, which its organiser must confirm."""
        seeded = self.seeded
        await seed_user(self.sessions, TOURIST, language="en", now=self.clock.now(), hotel_id=seeded.hotel_id)
        return await place_order(
            SqlUnitOfWork(self.sessions),
            PlaceOrder(
                user_id=TOURIST,
                session_id=seeded.session_id,
                quantities={"adult": 2},
                answers={"pickup": "Hotel Viru", "lunch": "veg"},
            ),
            self.clock.now(),
        )

    async def change_order(self, order_id: int, **values: Any) -> None:
        """Change an order's row behind the jobs' back (as another update would, meanwhile)."""
        async with self.sessions() as db, db.begin():
            await db.execute(update(OrderRow).where(OrderRow.id == order_id).values(**values))

    async def statuses(self) -> dict[str, str]:
        """The outbox's status per kind of message."""
        async with self.sessions() as db:
            rows = await db.execute(select(OutboxRow.kind, OutboxRow.status))
        return {row.kind: row.status for row in rows}


@pytest.fixture
def deadlines(
    dp: Dispatcher, bot: Bot, recorder: RecordingSession, sessions: async_sessionmaker, seeded: Seeded, clock
) -> Deadlines:
    sender = OutboxSender(bot, sessions, dp["i18n"], clock, limits=Limits.unlimited())
    jobs = DeadlineJobs(lambda: SqlUnitOfWork(sessions), clock)
    return Deadlines(dp, bot, recorder, sender, jobs, sessions, seeded, clock)


async def test_the_session_reminder_in_the_tourist_s_language_and_the_region_s_time(deadlines: Deadlines) -> None:
    tourist = deadlines.chat(TOURIST, "ru")
    order = await deadlines.walk()
    await deadlines.sender.deliver_due()
    deadlines.advance(INSTANT_SESSION_IN - timedelta(hours=2))
    assert len((await deadlines.jobs.send_due_reminders()).done) == 1
    assert await deadlines.sender.deliver_due() >= 1
    ru = deadlines.translator("ru")
    text = tourist.last_text()
    # the walk starts at 09:00 UTC: 11:00 in Tallinn (winter time)
    assert "11:00" in text and "Ратушная площадь" in text and "Прогулка по Старому городу" in text
    assert format_order_code(order.code) in text
    # on the day: "I'm running late" first (the organiser is told, with the order)
    assert tourist.buttons() == ["🏃 " + ru.gettext("I'm running late"), "🎟 " + ru.gettext("Open the order")]


async def test_a_reminder_for_an_order_cancelled_meanwhile_is_not_sent(deadlines: Deadlines) -> None:
    order = await deadlines.walk()
    deadlines.advance(INSTANT_SESSION_IN - timedelta(hours=2))
    await deadlines.jobs.send_due_reminders()
    await deadlines.change_order(order.id, booking="cancelled")  # cancelled between the job and the sender
    await deadlines.sender.deliver_due()
    assert (await deadlines.statuses())["tourist.session_reminder"] == "dead"
    assert [r for r in deadlines.recorder.calls("sendMessage") if r.params["chat_id"] == TOURIST] == []


async def test_the_pay_reminder_and_the_expiry_with_a_button_to_book_again(deadlines: Deadlines) -> None:
    tourist = deadlines.chat(TOURIST, "en")
    order = await deadlines.walk(language="en", payments=True)
    deadlines.clock.advance(minutes=30)
    assert (await deadlines.jobs.remind_unpaid()).done == [order.id]
    await deadlines.sender.deliver_due()
    en = deadlines.translator("en")
    text = tourist.last_text()
    assert "is not paid yet" in text and format_order_code(order.code) in text
    assert tourist.buttons() == ["🎟 " + en.gettext("Open the order")]
    # the grace: half of the 30 minutes to pay, shown in Tallinn time (09:45 UTC -> 11:45)
    assert "11:45" in text

    deadlines.clock.advance(minutes=15)
    assert (await deadlines.jobs.expire_overdue()).done == [order.id]
    await deadlines.sender.deliver_due()
    assert "has expired" in tourist.last_text()
    [button] = [b for row in tourist.last_message().reply_markup.inline_keyboard for b in row]
    assert button.callback_data == BelowCb(to=Below.EVENT, id=deadlines.seeded.instant_event_id).pack()
    await tourist.press(button.text)  # "Book again" opens the event with its dates
    assert "Old Town walk" in tourist.last_text()


async def test_a_pay_reminder_for_an_order_paid_meanwhile_is_not_sent(deadlines: Deadlines) -> None:
    order = await deadlines.walk(payments=True)
    await deadlines.sender.deliver_due()  # the invoice
    deadlines.clock.advance(minutes=30)
    await deadlines.jobs.remind_unpaid()
    await deadlines.change_order(order.id, payment="paid")
    await deadlines.sender.deliver_due()
    assert (await deadlines.statuses())["tourist.pay_reminder"] == "dead"


async def test_the_silent_organiser_is_nudged_in_their_language_and_can_confirm_from_the_nudge(
    deadlines: Deadlines,
) -> None:
    organiser = deadlines.organiser()
    order = await deadlines.cruise()
    await deadlines.sender.deliver_due()  # the booking request
    deadlines.clock.advance(minutes=10)
    assert (await deadlines.jobs.nudge_silent_organisers()).done == [order.id]
    await deadlines.sender.deliver_due()
    et = deadlines.translator("et")
    text = organiser.last_text()
    assert format_order_code(order.code) in text
    assert "Saarte kruiis" in text and "Hotel Viru" in text and "Taimetoit" in text  # the request's essentials
    assert organiser.buttons() == ["✅ " + et.gettext("Confirm"), "❌ " + et.gettext("Decline")]
    await organiser.press("✅ " + et.gettext("Confirm"))
    async with deadlines.sessions() as db:
        assert (await db.get(OrderRow, order.id)).booking == BookingStatus.CONFIRMED
    assert (await deadlines.jobs.nudge_silent_organisers()).claimed == 0


async def test_the_organiser_gets_the_participant_list(deadlines: Deadlines) -> None:
    organiser = deadlines.organiser()
    order = await deadlines.cruise()
    await deadlines.sender.deliver_due()
    await organiser.send("+", reply_to=organiser.last_message().message_id)
    deadlines.advance(SESSION_IN - timedelta(hours=2))  # the smallest offset: 2 h before
    assert len((await deadlines.jobs.send_participant_lists()).done) == 1
    await deadlines.sender.deliver_due()
    et = deadlines.translator("et")
    calls = deadlines.recorder.calls("sendMessage")
    texts = [r.params["text"] for r in calls if r.params["chat_id"] == ORGANISER_CHAT]
    [listing] = [t for t in texts if "👥" in t]
    assert format_order_code(order.code) in listing and "Saarte kruiis" in listing
    assert "Hotel Viru" in listing and "Taimetoit" in listing and "Hotel Telegraaf" in listing
    assert et.gettext("Adult") in listing


async def test_an_order_awaiting_the_organiser_expires_at_the_cutoff_and_the_tourist_is_told(
    deadlines: Deadlines,
) -> None:
    tourist = deadlines.chat(TOURIST, "en")
    order = await deadlines.cruise()
    deadlines.advance(SESSION_IN - BOOKING_CUTOFF)
    await deadlines.jobs.run_all()
    await deadlines.sender.deliver_due()
    assert "has expired" in tourist.last_text()
    assert "did not confirm it in time" in tourist.last_text()
    await tourist.press_data(OrderCb(action=OrderAction.VIEW, order=order.id).pack())
    assert "expired" in tourist.last_text()


async def test_a_paid_order_s_reminder_carries_its_ticket(deadlines: Deadlines) -> None:
    tourist = deadlines.chat(TOURIST, "en")
    order = await deadlines.walk(language="en")
    await deadlines.change_order(order.id, payment="paid", ticket="issued", ticket_code="TKT-ACD-EFH-JKM")
    deadlines.advance(INSTANT_SESSION_IN - timedelta(hours=2))
    await deadlines.jobs.send_due_reminders()
    await deadlines.sender.deliver_due()
    text = tourist.last_text()
    assert "TKT-ACD-EFH-JKM" in text and "Town Hall Square" in text and "11:00" in text
    assert "Show the order code at the meeting point" in text


ZONE_LABEL = {"en": "(Tallinn time)", "ru": "(часовой пояс: Таллин)"}  # the walk is in Tallinn


@pytest.mark.parametrize("language", ["en", "ru"])
async def test_the_session_reminder_names_the_region_s_zone(deadlines: Deadlines, language: str) -> None:
    tourist = deadlines.chat(TOURIST, language)
    await deadlines.walk(language=language)
    await deadlines.sender.deliver_due()
    deadlines.advance(INSTANT_SESSION_IN - timedelta(hours=2))
    await deadlines.jobs.send_due_reminders()
    assert await deadlines.sender.deliver_due() >= 1
    # the walk starts at 09:00 UTC: 11:00 in Tallinn, said so for a reader whose phone is elsewhere
    assert f"11:00 {ZONE_LABEL[language]}" in tourist.last_text()
