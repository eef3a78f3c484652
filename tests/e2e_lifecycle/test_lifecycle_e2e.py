"""The whole life of an order, with the real bot process (``python -m bot run``) against the emulator: booked,
confirmed by the organiser's reply, invoiced, paid, ticketed, reminded, listed for the organiser, rated; and the
deadline paths: a silent organiser is nudged once, an unpaid booking is reminded once and then expires.

The bot, the emulator and a temporary SQLite database are this module's own (not the package-scoped bot of
tests/e2e): payments are on (a dummy ``PAYMENT_PROVIDER_TOKEN``, so invoices go out) and the scheduler runs every
half second. The catalog is tests/seed.py's; each test sets the organiser's windows it needs (the bot reads the
catalog from the database on every update and at every pass of its deadline jobs) and books a session of its own.

The clock is the real one (the bot process reads the system clock). Where the story needs hours to pass, the test
"travels in time" by moving due times in the database, as a clock jumping forward would see them; each such step
says so in a comment. Every wait is bounded, and event-driven where the emulator can tell (the chats); a wait for
a moment of the real clock (the session's start) is a bounded sleep.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
import pytest_asyncio
from sqlalchemy import func, select, update

from bot.storage.tables import (
    AuditRow,
    InboxRow,
    OrderReminderRow,
    OrderRow,
    OrganiserRow,
    OutboxRow,
    PaymentRow,
    SessionNoticeRow,
    SessionRow,
)
from bot.storage.uow import SqlUnitOfWork
from domain.model.catalog import localized
from domain.model.messages import OutboxKind as K
from domain.model.orders import format_order_code
from domain.use_cases.checkin import check_in_ticket
from handlers.tourist.callbacks import Below, BelowCb, BookAction, BookCb, RateCb
from sandbox.server import Emulator
from tests.e2e.booking import book_cruise, orders_of, plain, seats_left
from tests.e2e.conftest import BotProcess, Database, seeded_database, sqlite_url
from tests.e2e.tourist import Tourist, buttons, callback_data
from tests.e2e_lifecycle.harness import (
    I18N,
    Organiser,
    book,
    invoices,
    order_row,
    photos,
    running_bot,
    sent_with,
    texts_with,
    wait_db,
    wait_idle,
)
from tests.seed import CRUISE_TITLE, DAY, HOUR, ORGANISER_CHAT_ID

pytestmark = pytest.mark.asyncio(loop_scope="module")

PROVIDER_TOKEN = "sandbox:TEST:e2e"
REMINDER_S = 20  # the organiser's only reminder: 20 s before the start
LEAD_S = 23  # the session is moved to start this long after the payment (the reminder is then due in 3 s)
EN = I18N.translator("en")
_ = EN.gettext


# ---- this module's emulator, database and bot ------------------------------------------------------------------------


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def database(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Database]:
    async with seeded_database(sqlite_url(tmp_path_factory.mktemp("lifecycle"))) as database:
        yield database


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def bot(
    emulator: Emulator, database: Database, operators: int, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[BotProcess]:
    log_path = tmp_path_factory.mktemp("lifecycle-bot") / "bot.log"
    async with running_bot(
        emulator, database.url, operators, log_path, PAYMENT_PROVIDER_TOKEN=PROVIDER_TOKEN, SCHEDULER_INTERVAL_S="0.5"
    ) as process:
        yield process


# ---- database helpers ------------------------------------------------------------------------------------------------


async def set_organiser(database: Database, **values: object) -> None:
    """Change the seeded organiser's windows (``confirm_within_s``, ``pay_within_s``, ``reminders_s``)."""
    async with database.sessions() as db, db.begin():
        await db.execute(update(OrganiserRow).where(OrganiserRow.id == database.seeded.organiser_id).values(**values))


async def outbox_kinds(database: Database, order_id: int) -> dict[str, list[str]]:
    """The outbox rows about one order (payload order_id), by kind: their statuses."""
    async with database.sessions() as db:
        rows = (
            await db.execute(select(OutboxRow.kind, OutboxRow.status, OutboxRow.payload).order_by(OutboxRow.id))
        ).all()
    kinds: dict[str, list[str]] = {}
    for kind, status, payload in rows:
        if payload.get("order_id") == order_id:
            kinds.setdefault(kind, []).append(status)
    return kinds


async def wait_outbox(database: Database, order_id: int, expected: dict[str, list[str]]) -> None:
    """The order's outbox rows are ``expected`` (kind -> statuses): a message shows in the chat a moment before the
    sender marks its row sent, so this waits (briefly) for the marks."""
    await wait_db(
        lambda: outbox_kinds(database, order_id),
        f"outbox of order {order_id} = {expected}",
        until=lambda kinds: kinds == expected,
    )


async def audit_actions(database: Database, order_id: int, desk: bool = False) -> list[str]:
    """The order's audit trail; the operator desk's own entries (``problem.*``) only with ``desk``."""
    async with database.sessions() as db:
        actions = list(
            await db.scalars(select(AuditRow.action).where(AuditRow.order_id == order_id).order_by(AuditRow.id))
        )
    return [a for a in actions if desk == a.startswith("problem.")]


async def reminders_of(database: Database, order_id: int) -> dict[str, OrderReminderRow]:
    async with database.sessions() as db:
        rows = await db.scalars(
            select(OrderReminderRow)
            .where(OrderReminderRow.order_id == order_id)
            .execution_options(populate_existing=True)
        )
        return {row.kind.split("@")[0]: row for row in rows}


async def move_session(database: Database, session_id: int, starts_at: datetime) -> None:
    """Time travel: the session now starts at ``starts_at``; everything still due about it (its orders' reminders,
    its participant list) moves by the same amount, so each keeps its distance to the start. The same as the clock
    jumping forward by that amount, for this session only (no other due time, such as ``pay_by``, moves)."""
    async with database.sessions() as db, db.begin():
        session = await db.get(SessionRow, session_id)
        shift = session.starts_at - starts_at
        session.starts_at = starts_at
        orders = select(OrderRow.id).where(OrderRow.session_id == session_id)
        reminders = await db.scalars(
            select(OrderReminderRow).where(OrderReminderRow.order_id.in_(orders), OrderReminderRow.status == "pending")
        )
        for reminder in reminders:
            reminder.due_at -= shift
        notices = await db.scalars(
            select(SessionNoticeRow).where(
                SessionNoticeRow.session_id == session_id, SessionNoticeRow.status == "pending"
            )
        )
        for notice in notices:
            notice.due_at -= shift


# ---- the whole life of an order --------------------------------------------------------------------------------------


async def test_an_order_from_booking_to_rating(world, database, bot) -> None:
    seeded = database.seeded
    sessions = database.sessions
    await set_organiser(database, reminders_s=[REMINDER_S], confirm_within_s=10 * 60, pay_within_s=30 * 60)
    anna = Tourist(world, world.add_user(first_name="Anna", language_code="en"))
    organiser = Organiser(world, ORGANISER_CHAT_ID, "et", sessions=sessions)
    et = organiser.tr
    seats = await seats_left(sessions, seeded.session_id)

    # 1. Anna books the cruise: the order waits for the organiser, the seat is held
    summary, _menu = await book_cruise(anna, seeded)
    card = await anna.press(BookCb(action=BookAction.CONFIRM, session=seeded.session_id), summary)
    [order] = await orders_of(sessions, anna.id)
    code = format_order_code(order.code)
    assert code in card["text"]
    assert (order.booking, order.payment, order.ticket) == ("awaiting_organiser", "not_due", "none")
    assert await seats_left(sessions, seeded.session_id) == seats - 1

    # 2. the organiser gets the booking request and replies "+" to it
    request, answer = await organiser.answer_request(order.code, "+")
    assert callback_data(request), "the request has Confirm / Decline buttons"
    assert answer["text"] == "✅ " + et.gettext("Booking {code} confirmed. We have told the tourist.").format(code=code)
    await organiser.wait(
        lambda: not organiser.message(request["message_id"]).get("reply_markup"), "the request losing its buttons"
    )

    # 3. Anna is told and gets the invoice
    confirmed_head = plain("✅ " + _("Your booking <b>{code}</b> is confirmed!").format(code=code))
    await anna.wait(lambda: texts_with(anna.bot_messages(), confirmed_head), "the confirmation")
    [invoice] = await anna.wait(lambda: invoices(anna), "the invoice")
    order = await order_row(sessions, order.id)
    assert (order.booking, order.payment) == ("confirmed", "awaiting")
    assert invoice["invoice"]["total_amount"] == order.total_minor and invoice["invoice"]["currency"] == "EUR"
    assert invoice["invoice"]["title"] == CRUISE_TITLE["en"]
    assert world.calls_of("sendInvoice")[-1].params["provider_token"] == PROVIDER_TOKEN

    # 4. she pays: the pre-checkout query is answered ok, the payment recorded, the ticket (a QR photo) follows
    paid = await world.user_pays(anna.id, anna.id, invoice["message_id"])
    assert paid["ok"], paid
    assert world.calls_of("answerPreCheckoutQuery")[-1].params["ok"] is True
    received = plain("✅ " + _("Payment of {amount} received for booking <b>{code}</b>. Your ticket follows."))
    received = received.format(amount=EN.money(order.total_minor, order.currency), code=code)
    await anna.wait(lambda: texts_with(anna.bot_messages(), received), "the payment receipt")
    [ticket] = await anna.wait(lambda: photos(anna), "the ticket")
    order = await order_row(sessions, order.id)
    assert (order.booking, order.payment, order.ticket) == ("confirmed", "paid", "issued")
    assert order.ticket_code and order.ticket_code in ticket["caption"]
    async with sessions() as db:
        [payment] = (await db.scalars(select(PaymentRow).where(PaymentRow.order_id == order.id))).all()
    assert payment.applied and payment.amount_minor == order.total_minor
    assert payment.telegram_charge_id == paid["message"]["successful_payment"]["telegram_payment_charge_id"]

    # 5. Time travel: the session, two days ahead, now starts in LEAD_S seconds (with its reminder and participant
    # list, written at the confirmation relative to the old start: see move_session). The move comes after the
    # confirmation on purpose: a session starting within the 5-minute booking cut-off cannot be booked, and an
    # order still awaiting the organiser then is expired by the bot.
    starts_at = datetime.now(UTC) + timedelta(seconds=LEAD_S)
    await move_session(database, seeded.session_id, starts_at)
    reminders = await reminders_of(database, order.id)
    assert set(reminders) == {f"before:{REMINDER_S}", "rating"}

    # the session reminder ("before:20") reaches Anna before the start, with her ticket code
    title = CRUISE_TITLE["en"]
    reminder_head = plain("⏰ " + _("Reminder: <b>{title}</b>").format(title=title))
    [reminder] = await anna.wait(
        lambda: texts_with(anna.bot_messages(), reminder_head), "the session reminder", timeout=LEAD_S - REMINDER_S + 8
    )
    assert reminder["date"] < starts_at.timestamp()
    assert order.ticket_code in reminder["text"]
    assert _("Show the order code at the meeting point. Have a great time!") in reminder["text"]

    # the organiser gets the participant list: Anna's order, paid
    list_head = plain("👥 " + et.gettext("Participant list: <b>{title}</b>")).format(
        title=localized(CRUISE_TITLE, "et")
    )
    [participants] = await organiser.wait(lambda: organiser.with_text(list_head), "the participant list")
    assert code in participants["text"] and et.gettext("paid") in participants["text"]
    assert participants["date"] < starts_at.timestamp()

    # 6. the session starts (a bounded wait for the real clock)
    await asyncio.sleep(max(0.0, (starts_at - datetime.now(UTC)).total_seconds()) + 0.5)

    # The organiser checked Anna in at the meeting point: only attended tourists are asked for a rating.
    await check_in_ticket(SqlUnitOfWork(sessions), order.id, ORGANISER_CHAT_ID, None, datetime.now(UTC))
    # Time travel: the rating request is due an hour after the session's end (3 h cruise + 1 h), when the attendance
    # job has settled the order; the session has started, so "now" stands in for that moment.
    async with sessions() as db, db.begin():
        await db.execute(update(OrderRow).where(OrderRow.id == order.id).values(booking="attended"))
        await db.execute(
            update(OrderReminderRow)
            .where(OrderReminderRow.order_id == order.id, OrderReminderRow.kind.like("rating%"))
            .values(due_at=datetime.now(UTC))
        )
    rating_head = plain("⭐ " + _("How was <b>{title}</b>? Please rate it from 1 to 5 stars.").format(title=title))
    [rating] = await anna.wait(lambda: texts_with(anna.bot_messages(), rating_head), "the rating request")
    assert callback_data(rating) == [RateCb(order=order.id, stars=n).pack() for n in range(1, 6)]

    # 7. ⭐5: thanked, the stars shown in place of the buttons, the rating stored
    rated = await anna.press(RateCb(order=order.id, stars=5), rating)
    assert rated["message_id"] == rating["message_id"]
    assert anna.callback_answers()[-1]["text"] == _("Thank you for your rating!")
    assert rated["text"].endswith(_("Your rating: {stars}").format(stars="⭐" * 5))
    assert not rated.get("reply_markup") and not buttons(rated)
    order = await order_row(sessions, order.id)
    assert order.rating == 5 and order.rated_at is not None

    # ---- the whole story, once each ----
    assert (order.booking, order.payment, order.ticket) == ("attended", "paid", "issued")
    assert len(photos(anna)) == 1, "exactly one ticket"
    assert len(invoices(anna)) == 1
    assert len(sent_with(anna.bot_messages(), reminder_head)) == 1, "exactly one session reminder"
    assert len(sent_with(anna.bot_messages(), confirmed_head)) == 1
    assert len(sent_with(anna.bot_messages(), received)) == 1
    assert len(sent_with(anna.bot_messages(), rating_head)) == 1
    assert len(organiser.requests(order.code)) == 1 and len(organiser.with_text(list_head)) == 1
    assert organiser.nudges(order.code) == []
    await wait_idle(sessions)  # the last screen shows before its update is marked done
    async with sessions() as db:
        assert await db.scalar(select(func.count()).select_from(PaymentRow).where(PaymentRow.order_id == order.id)) == 1
        notice = await db.scalar(select(SessionNoticeRow).where(SessionNoticeRow.session_id == seeded.session_id))
        assert notice.status == "sent"
        assert await db.scalar(select(func.count()).select_from(InboxRow).where(InboxRow.status != "done")) == 0
    reminders = await reminders_of(database, order.id)
    assert {kind: row.status for kind, row in reminders.items()} == {f"before:{REMINDER_S}": "sent", "rating": "sent"}
    await wait_outbox(
        database,
        order.id,
        {
            K.BOOKING_REQUEST: ["sent"],
            K.ORDER_CARD: ["sent"],  # not sent by the outbox: the card the booking turned into, kept to be redrawn
            K.ORDER_CONFIRMED: ["sent"],
            K.INVOICE: ["sent"],
            K.TICKET: ["sent"],
            K.TICKET_CALENDAR: ["sent"],  # the .ics after the ticket (the seeded cruise is not on the map)
            K.SESSION_REMINDER: ["sent"],
            K.RATING_REQUEST: ["sent"],
        },
    )
    assert await audit_actions(database, order.id) == [
        "order.placed",
        "order.confirmed_by_organiser",
        "payment.received",
        "reminder.sent",
        "order.checked_in",
        "reminder.sent",
        "order.rated",
    ]
    assert await seats_left(sessions, seeded.session_id) == seats - 1


# ---- deadlines -------------------------------------------------------------------------------------------------------


async def test_a_silent_organiser_is_nudged_once_and_an_unpaid_booking_expires(
    world,
    database,
    bot,
) -> None:
    seeded = database.seeded
    sessions = database.sessions
    session_id = seeded.small_session_id  # three days ahead: no reminder is due during the test
    organiser = Organiser(world, ORGANISER_CHAT_ID, "et", sessions=sessions)
    seats = await seats_left(sessions, session_id)

    # 1. Kai books; the organiser stays silent past confirm_within (2 s): one nudge
    await set_organiser(database, confirm_within_s=2, pay_within_s=30 * 60, reminders_s=[DAY, 2 * HOUR])
    kai = Tourist(world, world.add_user(first_name="Kai", language_code="en"))
    summary = await book(kai, seeded, session_id)
    await kai.press(BookCb(action=BookAction.CONFIRM, session=session_id), summary)
    [silent] = await orders_of(sessions, kai.id)
    await organiser.wait_request(silent.code)
    [nudge] = await organiser.wait(lambda: organiser.nudges(silent.code), "the nudge", timeout=10)
    assert callback_data(nudge), "the nudge has Confirm / Decline buttons"
    silent = await order_row(sessions, silent.id)
    assert silent.booking == "awaiting_organiser" and silent.confirm_nudged_at is not None

    # 2. Lea books (the organiser answers her at once: no nudge) and is confirmed; she has 4 s to pay
    await set_organiser(database, confirm_within_s=10 * 60, pay_within_s=4)
    lea = Tourist(world, world.add_user(first_name="Lea", language_code="en"))
    summary = await book(lea, seeded, session_id)
    await lea.press(BookCb(action=BookAction.CONFIRM, session=session_id), summary)
    [unpaid] = await orders_of(sessions, lea.id)
    code = format_order_code(unpaid.code)
    assert await seats_left(sessions, session_id) == seats - 2
    await organiser.answer_request(unpaid.code, "+")
    [invoice] = await lea.wait(lambda: invoices(lea), "the invoice")

    # 3. unpaid past pay_by: one reminder (the seats are held for half the pay window more: 2 s) ...
    reminder_head = plain("⏰ " + _("Your booking <b>{code}</b> is not paid yet.").format(code=code))
    [reminder] = await lea.wait(lambda: texts_with(lea.bot_messages(), reminder_head), "the pay reminder", timeout=10)
    # ... then the booking expires: the seat goes back on sale, Lea is told, with a button to book again
    expired_head = plain("⌛ " + _("Your booking <b>{code}</b> has expired.").format(code=code))
    [expired] = await lea.wait(lambda: texts_with(lea.bot_messages(), expired_head), "the expiry", timeout=10)
    assert _("It was not paid in time, so the seats went back on sale.") in expired["text"]
    assert _("Nothing to pay. You are welcome to book again.") in expired["text"]
    book_again = BelowCb(to=Below.EVENT, id=seeded.event_id).pack()
    assert callback_data(expired) == [book_again]
    assert [b["text"] for b in buttons(expired)] == ["🗓 " + _("Book again")]
    unpaid = await order_row(sessions, unpaid.id)
    assert (unpaid.booking, unpaid.payment, unpaid.ticket) == ("expired", "not_due", "none")
    assert unpaid.pay_reminded_at is not None and unpaid.cancelled_at is not None
    assert await seats_left(sessions, session_id) == seats - 1  # Kai's seat is still held

    # the stale invoice can no longer be paid: the pre-checkout query is refused with the reason
    refused = await world.user_pays(lea.id, lea.id, invoice["message_id"])
    assert refused == {
        "ok": False,
        "error": _(
            "The time to pay for this booking has run out and the seats went back on sale. "
            "You are welcome to book again."
        ),
    }

    # "Book again" opens the event card, with the session bookable again
    event_card = await lea.press(book_again, expired)
    assert BookCb(action=BookAction.START, session=session_id).pack() in callback_data(event_card)

    # ---- once each (the deadline jobs ran a few dozen passes since the nudge) ----
    assert len(organiser.nudges(silent.code)) == 1
    assert len(organiser.nudges(unpaid.code)) == 0
    assert len(sent_with(lea.bot_messages(), reminder_head)) == 1
    assert len(sent_with(lea.bot_messages(), expired_head)) == 1
    assert (await order_row(sessions, silent.id)).booking == "awaiting_organiser"
    await wait_outbox(
        database, silent.id, {K.BOOKING_REQUEST: ["sent"], K.ORDER_CARD: ["sent"], K.CONFIRM_NUDGE: ["sent"]}
    )
    await wait_outbox(
        database,
        unpaid.id,
        {
            K.BOOKING_REQUEST: ["sent"],
            K.ORDER_CARD: ["sent"],
            K.ORDER_CONFIRMED: ["sent"],
            K.INVOICE: ["sent"],
            K.PAY_REMINDER: ["sent"],
            K.ORDER_EXPIRED: ["sent"],
        },
    )
    assert await audit_actions(database, silent.id) == ["order.placed", "order.organiser_nudged"]
    assert await audit_actions(database, silent.id, desk=True) == ["problem.opened"]  # one card, still open
    assert await audit_actions(database, unpaid.id) == [
        "order.placed",
        "order.confirmed_by_organiser",
        "order.pay_reminded",
        "order.expired",
    ]
    assert reminder["date"] <= expired["date"]
