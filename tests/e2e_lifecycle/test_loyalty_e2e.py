"""Loyalty points with the real bot process against the emulator (issue 15): a guest books the cruise, pays, is
checked in and attends (the bot's attendance job settles it and the points are earned by the region's rule), then
redeems them on the next booking: the summary, the invoice and the payment carry the reduced amount.

This module's own emulator, database and bot (payments on, the scheduler every half second), as in
test_lifecycle_e2e.py; the catalog is tests/seed.py's with a points rule for its region. The clock is the real one:
where hours must pass the test "travels in time" by moving the session's start in the database, and says so.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
import pytest_asyncio
from sqlalchemy import func, insert, select, update

from bot.storage.loyalty_tables import PointsEntryRow, PointsRuleRow
from bot.storage.tables import OutboxRow, PaymentRow, SessionRow
from bot.storage.uow import SqlUnitOfWork
from domain.use_cases.checkin import check_in_ticket
from handlers.tourist.callbacks import BookAction, BookCb, BrowseCb, EventCb, MenuAction, MenuCb, When
from sandbox.server import Emulator
from tests.e2e.booking import PICKUP, VEGETARIAN, orders_of
from tests.e2e.conftest import BotProcess, Database, seeded_database, sqlite_url
from tests.e2e.tourist import Tourist, buttons
from tests.e2e_lifecycle.harness import I18N, Organiser, book, invoices, order_row, running_bot, wait_db
from tests.seed import HOUR, ORGANISER_CHAT_ID, Seeded

pytestmark = pytest.mark.asyncio(loop_scope="module")

PROVIDER_TOKEN = "sandbox:TEST:e2e"
EARN_PERCENT = 10
EN = I18N.translator("en")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def database(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Database]:
    async with seeded_database(sqlite_url(tmp_path_factory.mktemp("loyalty"))) as database:
        async with database.sessions() as db, db.begin():
            await db.execute(
                insert(PointsRuleRow).values(
                    region_id=database.seeded.region_id, earn_percent=EARN_PERCENT, referral_bonus=500
                )
            )
        yield database


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def bot(
    emulator: Emulator, database: Database, operators: int, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[BotProcess]:
    log_path = tmp_path_factory.mktemp("loyalty-bot") / "bot.log"
    async with running_bot(
        emulator, database.url, operators, log_path, PAYMENT_PROVIDER_TOKEN=PROVIDER_TOKEN, SCHEDULER_INTERVAL_S="0.5"
    ) as process:
        yield process


async def ledger(database: Database, user_id: int) -> list[tuple[str, int]]:
    async with database.sessions() as db:
        rows = await db.scalars(
            select(PointsEntryRow).where(PointsEntryRow.user_id == user_id).order_by(PointsEntryRow.id)
        )
        return [(row.reason, row.amount) for row in rows]


async def pending_messages(database: Database) -> int:
    async with database.sessions() as db:
        return int(await db.scalar(select(func.count()).where(OutboxRow.status.in_(("pending", "sending")))) or 0)


async def book_again(tourist: Tourist, seeded: Seeded, session_id: int) -> dict:
    """As ``harness.book`` (the cruise, one adult, the two questions), each tap on the screen the last one showed."""
    screen = await tourist.send("/start")
    for step in (
        MenuCb(action=MenuAction.EVENTS),
        BrowseCb(region=seeded.region_id, step="when"),
        BrowseCb(region=seeded.region_id, when=When.UPCOMING, step="category"),
        BrowseCb(region=seeded.region_id, when=When.UPCOMING, category="sea", step="list"),
        EventCb(event=seeded.event_id),
        BookCb(action=BookAction.START, session=session_id),
        BookCb(action=BookAction.NEXT, session=session_id),
    ):
        screen = await tourist.press(step, screen)
    question = await tourist.send(PICKUP)
    return await tourist.press(BookCb(action=BookAction.CHOICE, session=session_id, value=VEGETARIAN), question)


async def pay(world, tourist: Tourist, organiser: Organiser, code: str) -> dict:
    """The organiser confirms the booking with "+", the invoice arrives, the tourist pays it: the invoice."""
    before = len(invoices(tourist))
    await organiser.answer_request(code, "+")
    invoice = await tourist.wait(
        lambda: invoices(tourist)[-1] if len(invoices(tourist)) > before else None, "the invoice"
    )
    paid = await world.user_pays(tourist.id, tourist.id, invoice["message_id"])
    assert paid["ok"], paid
    return invoice


async def test_a_guest_earns_points_by_attending_and_pays_less_with_them_next_time(world, database, bot) -> None:
    seeded, sessions = database.seeded, database.sessions
    anna = Tourist(world, world.add_user(first_name="Anna", language_code="en"))
    organiser = Organiser(world, ORGANISER_CHAT_ID, "et", sessions=sessions)

    # 1. Anna books the cruise (€45.00), the organiser confirms, she pays the whole price
    summary = await book(anna, seeded, seeded.session_id)
    assert not any("Use my points" in b["text"] for b in buttons(summary)), "no points yet"
    await anna.press(BookCb(action=BookAction.CONFIRM, session=seeded.session_id), summary)
    [first] = await orders_of(sessions, anna.id)
    first_invoice = await pay(world, anna, organiser, first.code)
    assert first_invoice["invoice"]["total_amount"] == 4500
    await wait_db(lambda: order_row(sessions, first.id), "the first payment", until=lambda o: o.payment == "paid")

    # 2. she is checked in at the meeting point; time travel: the 3-hour cruise started 3 h 1 min ago (it is over),
    # and the bot's attendance job settles it: attended, 10% of €45.00 earned
    await check_in_ticket(SqlUnitOfWork(sessions), first.id, ORGANISER_CHAT_ID, None, datetime.now(UTC))
    async with sessions() as db, db.begin():
        ended = datetime.now(UTC) - timedelta(seconds=3 * HOUR + 60)
        await db.execute(update(SessionRow).where(SessionRow.id == seeded.session_id).values(starts_at=ended))
    await wait_db(lambda: order_row(sessions, first.id), "the attendance", until=lambda o: o.booking == "attended")
    assert await wait_db(lambda: ledger(database, anna.id), "the points", until=bool) == [("earned", 450)]

    # Profile shows them
    await anna.send("/profile")
    assert "Points: 450 points" in anna.last()["text"]

    # 3. the next booking: "Use my points" takes €4.50 off (450 points, within half the price)
    await wait_db(lambda: pending_messages(database), "the outbox sent", until=lambda n: n == 0)
    summary = await book_again(anna, seeded, seeded.small_session_id)
    offer = next(b for b in buttons(summary) if "Use my points" in b["text"])
    assert offer["text"].endswith(EN.gettext("Use my points: −{amount}").format(amount=EN.money(450, "EUR")))
    summary = await anna.press(offer["callback_data"], summary)
    assert "Points used: 450 points: −€4.50" in summary["text"] and "Total: €40.50" in summary["text"]
    await anna.press(BookCb(action=BookAction.CONFIRM, session=seeded.small_session_id), summary)
    second = next(o for o in await orders_of(sessions, anna.id) if o.id != first.id)
    assert (second.total_minor, second.points_used) == (4050, 450)
    assert await ledger(database, anna.id) == [("earned", 450), ("redeemed", -450)]

    # 4. the invoice asks for the reduced amount, with the points as a line of its own; she pays exactly that
    second_invoice = await pay(world, anna, organiser, second.code)
    assert second_invoice["invoice"]["total_amount"] == 4050
    prices = world.calls_of("sendInvoice")[-1].params["prices"]
    assert {"label": "Loyalty points (450)", "amount": -450} in prices
    assert sum(p["amount"] for p in prices) == 4050
    paid = await wait_db(
        lambda: order_row(sessions, second.id), "the second payment", until=lambda o: o.payment == "paid"
    )
    assert paid.total_minor == 4050
    async with sessions() as db:
        payment = await db.scalar(select(PaymentRow).where(PaymentRow.order_id == second.id))
    assert payment is not None and payment.applied and payment.amount_minor == 4050
