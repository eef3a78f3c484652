"""Check-in and the day itself through the real Dispatcher: the ticket's link opened by a stranger (learns only the
event), by the organiser (sees the ticket, checks it in with one tap; a second time says when) and by an operator; a
voided ticket; forged and stale buttons; the participant list showing who has checked in; "we're at the meeting
point" and "I'm running late"."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from aiogram import Bot, Dispatcher
from aiogram.types import InlineKeyboardButton
from sqlalchemy import select, update

from bot.outbox import OutboxSender
from bot.storage.checkin_tables import OrderDayRow, SessionDayRow
from bot.storage.tables import AuditRow, OrderRow
from bot.storage.uow import SqlUnitOfWork
from domain.model.orders import Order, format_order_code
from domain.rules.replies import OrganiserReply, Verdict
from domain.use_cases.booking import PlaceOrder, cancel_order, place_order
from domain.use_cases.confirmation import answer_booking_request
from domain.use_cases.payments import record_payment
from handlers.organiser.callbacks import CheckinCb, LateCb, ManifestAction, ManifestCb
from scheduler.jobs import DeadlineJobs
from tests.handlers.chat import Chat
from tests.handlers.conftest import OPERATOR_ID, STRANGER_ID, TOURIST_ID
from tests.handlers.organiser_wiring import organiser_chat as english_organiser_chat
from tests.handlers.organiser_wiring import wire_organiser_routers
from tests.seed import ORGANISER_CHAT_ID, SESSION_IN, Seeded, seed_user
from tests.telegram.recorder import RecordingSession

ANSWERS = {"pickup": "Viru", "lunch": "fish"}


@pytest.fixture(autouse=True)
def _organiser_routers(monkeypatch: pytest.MonkeyPatch) -> None:
    wire_organiser_routers(monkeypatch)


@pytest.fixture
def organiser_chat(dp: Dispatcher, bot: Bot, recorder: RecordingSession) -> Chat:
    """The seeded organiser's private chat, in English (readable assertions)."""
    return english_organiser_chat(dp, bot, recorder)


@pytest.fixture
def outsider(dp: Dispatcher, bot: Bot, recorder: RecordingSession, operator_members: set[int]) -> Chat:
    """Someone who is neither the organiser nor an operator, in their private chat."""
    return Chat(dp, bot, recorder, STRANGER_ID, language_code="en", first_name="Mallory")


@pytest.fixture
def operator_private(dp: Dispatcher, bot: Bot, recorder: RecordingSession, operator_members: set[int]) -> Chat:
    return Chat(dp, bot, recorder, OPERATOR_ID, language_code="en", first_name="Olga")


@pytest.fixture
async def paid(sessions, seeded: Seeded, clock) -> Order:
    """Tourist 1001 (Anna) booked two adults on the cruise, the organiser confirmed, she paid: a ticket."""
    await seed_user(sessions, TOURIST_ID, language="en", now=clock.now(), first_name="Anna")
    order = await place_order(
        SqlUnitOfWork(sessions),
        PlaceOrder(
            user_id=TOURIST_ID,
            session_id=seeded.session_id,
            quantities={"adult": 2},
            answers=ANSWERS,
            payments_enabled=True,
        ),
        clock.now(),
    )
    yes = OrganiserReply(Verdict.YES)
    await answer_booking_request(
        SqlUnitOfWork(sessions), order.stored_id, ORGANISER_CHAT_ID, yes, "+", clock.now(), True
    )
    async with SqlUnitOfWork(sessions) as uow:
        confirmed = await uow.orders.get(order.stored_id)
    assert confirmed is not None
    await record_payment(
        SqlUnitOfWork(sessions),
        order.stored_id,
        TOURIST_ID,
        "charge-1",
        "p-1",
        confirmed.total_minor,
        confirmed.currency,
        clock.now(),
    )
    async with SqlUnitOfWork(sessions) as uow:
        ticket = await uow.orders.get(order.stored_id)
    assert ticket is not None and ticket.ticket_code
    return ticket


def link(order: Order) -> str:
    return f"/start chk-{order.ticket_code}"


async def day_of(sessions, order_id: int) -> OrderDayRow | None:
    async with sessions() as db:
        return await db.get(OrderDayRow, order_id)


async def audit_actions(sessions, order_id: int) -> list[tuple[str, str]]:
    async with sessions() as db:
        rows = await db.scalars(select(AuditRow).where(AuditRow.order_id == order_id).order_by(AuditRow.id))
        return [(row.action, row.actor) for row in rows]


# ---- the link ------------------------------------------------------------------------------------------------------


async def test_a_stranger_who_opens_the_link_learns_only_the_event(outsider: Chat, paid: Order, sessions) -> None:
    await outsider.send(link(paid))
    text = outsider.last_text()
    assert "Islands cruise" in text and "ticket for" in text
    for personal in ("Anna", paid.ticket_code or "", format_order_code(paid.code), "Viru", "Adult", "45"):
        assert personal not in text
    assert outsider.buttons() == []
    await outsider.press_data(CheckinCb(order=paid.stored_id).pack())  # a forged check-in button
    [alert] = outsider.alerts()
    assert alert.show_alert and "Only the organiser" in alert.text
    assert await day_of(sessions, paid.stored_id) is None


async def test_the_organiser_sees_the_ticket_and_checks_it_in_once(organiser_chat: Chat, paid: Order, sessions) -> None:
    await organiser_chat.send(link(paid))
    text = organiser_chat.last_text()
    assert paid.ticket_code in text and format_order_code(paid.code) in text
    assert "Anna" in text and "Adult × 2" in text and "Viru" in text and "Paid: €90.00" in text
    assert "Not checked in yet." in text and "0 of 1 bookings" in text
    assert organiser_chat.buttons() == ["✅ Check in"]

    await organiser_chat.press("✅ Check in")
    [alert] = organiser_chat.alerts()
    assert alert.text == "✅ Checked in." and not alert.show_alert
    text = organiser_chat.last_text()
    assert "Checked in at" in text and "(Tallinn time)" in text and "1 of 1 bookings" in text
    assert organiser_chat.buttons() == []
    day = await day_of(sessions, paid.stored_id)
    assert day is not None and day.checked_in_at is not None and day.checked_in_by == f"organiser:{ORGANISER_CHAT_ID}"
    assert ("order.checked_in", f"organiser:{ORGANISER_CHAT_ID}") in await audit_actions(sessions, paid.stored_id)

    # the same QR again: it says when; a stale button changes nothing and says when
    await organiser_chat.send(link(paid))
    assert "Checked in at" in organiser_chat.last_text() and organiser_chat.buttons() == []
    await organiser_chat.press_data(CheckinCb(order=paid.stored_id).pack())
    [alert] = organiser_chat.alerts()
    assert alert.show_alert and alert.text.startswith("Already checked in at") and "(Tallinn time)" in alert.text
    actions = await audit_actions(sessions, paid.stored_id)
    assert actions.count(("order.checked_in", f"organiser:{ORGANISER_CHAT_ID}")) == 1


async def test_an_operator_may_check_a_ticket_in(operator_private: Chat, paid: Order, sessions) -> None:
    await operator_private.send(link(paid))
    assert "Anna" in operator_private.last_text()
    await operator_private.press("✅ Check in")
    day = await day_of(sessions, paid.stored_id)
    assert day is not None and day.checked_in_by == f"operator:{OPERATOR_ID}"


async def test_a_voided_ticket_says_so_loudly(organiser_chat: Chat, paid: Order, sessions, clock) -> None:
    await cancel_order(SqlUnitOfWork(sessions), TOURIST_ID, paid.stored_id, clock.now())
    await organiser_chat.send(link(paid))
    text = organiser_chat.last_text()
    assert "VOID TICKET: DO NOT ADMIT" in text and "cancelled" in text
    assert organiser_chat.buttons() == []
    await organiser_chat.press_data(CheckinCb(order=paid.stored_id).pack())
    [alert] = organiser_chat.alerts()
    assert alert.show_alert and "void" in alert.text
    assert await day_of(sessions, paid.stored_id) is None


@pytest.mark.parametrize("payload", ["chk-", "chk-nonsense", "chk-TKT-AAA-AAA-AAA"])
async def test_a_forged_or_replaced_code_is_not_a_ticket(organiser_chat: Chat, paid: Order, payload: str) -> None:
    await organiser_chat.send(f"/start {payload}")
    assert "not valid" in organiser_chat.last_text() and organiser_chat.buttons() == []


async def test_a_forged_button_for_a_missing_order(organiser_chat: Chat, paid: Order) -> None:
    await organiser_chat.send(link(paid))
    await organiser_chat.press_data(CheckinCb(order=999999).pack())
    [alert] = organiser_chat.alerts()
    assert alert.show_alert and "not valid" in alert.text


# ---- the participant list ------------------------------------------------------------------------------------------


def data_is(data: str) -> Callable[[InlineKeyboardButton], bool]:
    return lambda button: button.callback_data == data


async def participant_list(sessions, clock, sender: OutboxSender, organiser_chat: Chat) -> int:
    """The list the organiser gets two hours before the start (in their language, Estonian: assertions stay on what
    does not change with the language)."""
    await sender.deliver_due()  # the booking request and what followed
    clock.advance(seconds=(SESSION_IN - timedelta(hours=2)).total_seconds())
    await DeadlineJobs(lambda: SqlUnitOfWork(sessions), clock).send_participant_lists()
    await sender.deliver_due()
    return organiser_chat.last_message().message_id


async def test_the_participant_list_shows_who_has_checked_in(
    organiser_chat: Chat, paid: Order, sessions, clock, sender: OutboxSender
) -> None:
    list_id = await participant_list(sessions, clock, sender, organiser_chat)
    code = format_order_code(paid.code)
    assert organiser_chat.last_text().startswith("👥") and code in organiser_chat.last_text()
    assert [b[:1] for b in organiser_chat.buttons(list_id)] == ["🔄", "📍"]
    assert f"✅ {code}" not in organiser_chat.last_text()

    await organiser_chat.send(link(paid))
    await organiser_chat.press("✅ Check in")
    refresh = ManifestCb(action=ManifestAction.REFRESH, session=paid.session_id).pack()
    await organiser_chat.press(data_is(refresh), message_id=list_id)
    text = organiser_chat.last_text()
    assert "Checked in: 1 of 1 bookings" in text and f"✅ {code}" in text  # the presser's language: English


async def test_only_the_organiser_opens_the_live_list(
    outsider: Chat, organiser_chat: Chat, paid: Order, sessions, clock, sender: OutboxSender, seeded: Seeded
) -> None:
    await participant_list(sessions, clock, sender, organiser_chat)
    await outsider.send("/start")
    for action in ManifestAction:
        await outsider.press_data(ManifestCb(action=action, session=seeded.session_id).pack())
        [alert] = outsider.alerts()
        assert alert.show_alert and "Only the organiser" in alert.text
        assert "Participant list" not in " ".join(outsider.texts())
    async with sessions() as db:
        assert await db.get(SessionDayRow, seeded.session_id) is None


# ---- at the meeting point ------------------------------------------------------------------------------------------


async def test_we_are_at_the_meeting_point_goes_to_the_tourists_once(
    organiser_chat: Chat, chat: Chat, paid: Order, sessions, clock, sender: OutboxSender, seeded: Seeded
) -> None:
    await organiser_chat.send("/start")
    too_early = ManifestCb(action=ManifestAction.AT_POINT_SEND, session=seeded.session_id).pack()
    await organiser_chat.press_data(too_early)
    [alert] = organiser_chat.alerts()
    assert alert.show_alert and "2 hours before the start" in alert.text

    list_id = await participant_list(sessions, clock, sender, organiser_chat)
    clock.advance(minutes=90)  # half an hour before the start
    ask = ManifestCb(action=ManifestAction.AT_POINT, session=seeded.session_id).pack()
    await organiser_chat.press(data_is(ask), message_id=list_id)
    assert "Tell the 1 tourist of this session" in organiser_chat.last_text()
    await organiser_chat.press("📍 Yes, tell them", message_id=list_id)
    [alert] = organiser_chat.alerts()
    assert alert.text == "📍 Sent to 1 tourist."
    assert await sender.deliver_due() == 1
    told = chat.last_text()
    assert "is at the meeting point" in told and "Pier 3" in told and format_order_code(paid.code) in told

    await organiser_chat.press_data(too_early, message_id=list_id)  # a second tap
    [alert] = organiser_chat.alerts()
    assert alert.show_alert and "already told" in alert.text
    assert await sender.deliver_due() == 0


# ---- running late --------------------------------------------------------------------------------------------------


async def test_running_late_tells_the_organiser_once_on_the_day(
    organiser_chat: Chat, chat: Chat, outsider: Chat, paid: Order, sessions, clock, sender: OutboxSender
) -> None:
    late = LateCb(order=paid.stored_id).pack()
    await sender.deliver_due()  # the booking request and what followed
    await chat.send("/start")
    await chat.press_data(late)  # two days before
    [alert] = chat.alerts()
    assert alert.show_alert and "on the day of your session" in alert.text

    clock.advance(seconds=(SESSION_IN - timedelta(minutes=20)).total_seconds())
    await outsider.send("/start")
    await outsider.press_data(late)  # someone else's order
    [alert] = outsider.alerts()
    assert alert.show_alert and "not your booking" in alert.text

    await chat.press_data(late)
    [alert] = chat.alerts()
    assert "We have told the organiser" in alert.text
    await sender.deliver_due()
    told = organiser_chat.last_text()  # in the organiser's language (Estonian)
    assert told.startswith("🏃") and "Anna" in told and format_order_code(paid.code) in told and "Viru" in told

    await chat.press_data(late)
    [alert] = chat.alerts()
    assert "already knows" in alert.text
    assert await sender.deliver_due() == 0
    day = await day_of(sessions, paid.stored_id)
    assert day is not None and day.running_late_at is not None


async def test_the_reminder_on_the_day_has_the_running_late_button(
    chat: Chat, paid: Order, sessions, clock, sender: OutboxSender
) -> None:
    clock.advance(seconds=(SESSION_IN - timedelta(hours=2)).total_seconds())
    await DeadlineJobs(lambda: SqlUnitOfWork(sessions), clock).send_due_reminders()
    await sender.deliver_due()
    assert "Reminder" in chat.last_text()
    assert "🏃 I'm running late" in chat.buttons()


async def test_settled_orders_cannot_be_checked_in_as_voided(organiser_chat: Chat, paid: Order, sessions) -> None:
    """An order declined by an operator with a ticket that never was: nothing to check in, nothing changed."""
    async with sessions() as db, db.begin():
        await db.execute(update(OrderRow).where(OrderRow.id == paid.stored_id).values(ticket="none"))
    await organiser_chat.send(link(paid))
    assert "not valid" not in organiser_chat.last_text()
    await organiser_chat.press_data(CheckinCb(order=paid.stored_id).pack())
    [alert] = organiser_chat.alerts()
    assert alert.show_alert and "cannot be checked in" in alert.text
    assert await day_of(sessions, paid.stored_id) is None
