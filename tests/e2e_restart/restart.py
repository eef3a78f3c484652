"""What the kill -9 tests (SQLite: test_kill9.py, PostgreSQL: test_kill9_postgres.py) check after the restart."""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import func, select

from bot.storage.tables import OrderRow, OutboxRow, PaymentRow
from domain.model.messages import OutboxKind
from domain.model.orders import CODE_ALPHABET
from sandbox.server import Emulator
from tests.e2e.booking import orders_of, seats_left
from tests.e2e.conftest import BotProcess, Database
from tests.e2e.tourist import Tourist
from tests.e2e_lifecycle.harness import inbox, order_row, photos, start_bot, wait_db, wait_idle

PROVIDER_TOKEN = "sandbox:TEST:kill9"  # payments on: invoices go out (any provider token does in the emulator)
RESTART_TIMEOUT = 30.0  # the restarted process handles the update (it is polling already: see harness.start_bot)


ORDER_CODE = re.compile(rf"\b[{CODE_ALPHABET}]{{3}}-[{CODE_ALPHABET}]{{3}}\b")


def orders_and_card(tourist: Tourist) -> bool:
    """The summary became the order card: it shows an order code."""
    return any(ORDER_CODE.search(m.get("text") or "") for m in tourist.bot_messages())


async def payment_count(sessions) -> int:
    async with sessions() as db:
        return await db.scalar(select(func.count()).select_from(PaymentRow))


async def assert_paid_once(sessions, tourist: Tourist, order_id: int, ticket: dict) -> None:
    """The payment recorded once, the order paid with its ticket, one ticket and one receipt in the chat."""
    row = await order_row(sessions, order_id)
    assert (row.booking, row.payment, row.ticket) == ("confirmed", "paid", "issued")
    assert row.ticket_code and row.ticket_code in ticket["caption"]
    async with sessions() as db:
        [payment] = (await db.scalars(select(PaymentRow))).all()
    assert payment.order_id == order_id and payment.applied

    async def ticket_rows() -> list[str]:
        async with sessions() as db:
            return list(await db.scalars(select(OutboxRow.status).where(OutboxRow.kind == OutboxKind.TICKET.value)))

    # the photo shows a moment before the sender marks its row: once marked, it cannot go out again
    await wait_db(ticket_rows, "the ticket's outbox row marked sent", until=lambda rows: rows == ["sent"])
    assert len(photos(tourist)) == 1
    receipts = [m for m in tourist.bot_messages() if (m.get("text") or "").startswith("✅ Payment of ")]
    assert len(receipts) == 1, [m.get("text") for m in tourist.bot_messages()]


async def stop_all(bots: list[BotProcess]) -> None:
    """The test's bot processes still running, stopped; each must exit cleanly."""
    for bot in bots:
        if bot.running:
            assert await bot.stop() == 0, bot.tail()


async def restart_and_find_order(
    emulator: Emulator, db: Database, operators: int, log_path: Path, tourist: Tourist, before: int, bots: list
) -> OrderRow:
    """A new bot process (added to ``bots``) handles the Confirm the killed one could not: the tourist's one order,
    awaiting the organiser, took its seat."""
    bots.append(await start_bot(emulator, db.url, operators, log_path))
    await tourist.wait(lambda: orders_and_card(tourist), "the order card after the restart", timeout=RESTART_TIMEOUT)
    [order] = await orders_of(db.sessions, tourist.id)
    assert order.booking == "awaiting_organiser"
    assert await seats_left(db.sessions, db.seeded.session_id) == before - 1
    return order


async def assert_paid_once_after_restart(
    emulator: Emulator,
    db: Database,
    operators: int,
    log_path: Path,
    tourist: Tourist,
    order_id: int,
    update_id: int,
    bots: list,
) -> None:
    """The killed process recorded nothing of the payment; a new one (added to ``bots``) records it once and sends
    one ticket, and the update counts as handled once."""
    row = await order_row(db.sessions, order_id)
    assert (row.payment, row.ticket) == ("awaiting", "none")
    assert await payment_count(db.sessions) == 0 and photos(tourist) == []

    bots.append(await start_bot(emulator, db.url, operators, log_path, PAYMENT_PROVIDER_TOKEN=PROVIDER_TOKEN))
    [ticket] = await tourist.wait(lambda: photos(tourist), "the ticket after the restart", timeout=RESTART_TIMEOUT)
    await wait_idle(db.sessions)
    await assert_paid_once(db.sessions, tourist, order_id, ticket)
    assert (await inbox(db.sessions))[update_id] == ("done", 1)
