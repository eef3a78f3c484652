"""The booking journey as a tourist taps through it, and the database reads the e2e tests check against."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select, text

from bot.storage.tables import OrderRow, SessionRow
from handlers.tourist.callbacks import (
    BookAction,
    BookCb,
    BrowseCb,
    EventCb,
    MenuAction,
    MenuCb,
    When,
)
from tests.e2e.tourist import Tourist, callback_data
from tests.seed import Seeded

PICKUP = "Hotel Telegraaf, lobby"
VEGETARIAN = 1  # the lunch question's second choice


def plain(html: str) -> str:
    """A translated message as the user sees it (the emulator renders HTML into entities)."""
    return re.sub(r"</?[a-z]+>", "", html)


async def book_cruise(tourist: Tourist, seeded: Seeded, pickup: str = PICKUP) -> tuple[dict[str, Any], dict]:
    """/start -> Events -> Tallinn -> next 30 days -> sea -> the islands cruise -> its first date -> Continue ->
    pickup (typed) -> lunch (a button). Returns (the summary screen, the /start menu)."""
    menu = await tourist.send("/start")
    await tourist.press(MenuCb(action=MenuAction.EVENTS))
    await tourist.press(BrowseCb(region=seeded.region_id, step="when"))
    await tourist.press(BrowseCb(region=seeded.region_id, when=When.UPCOMING, step="category"))
    await tourist.press(BrowseCb(region=seeded.region_id, when=When.UPCOMING, category="sea", step="list"))
    card = await tourist.press(EventCb(event=seeded.event_id))
    dates = [data for data in callback_data(card) if data.startswith(f"{BookCb.__prefix__}:{BookAction.START}:")]
    assert dates and dates[0] == BookCb(action=BookAction.START, session=seeded.session_id).pack(), dates
    await tourist.press(dates[0])
    await tourist.press(BookCb(action=BookAction.NEXT, session=seeded.session_id))
    question = await tourist.send(pickup)
    summary = await tourist.press(
        BookCb(action=BookAction.CHOICE, session=seeded.session_id, value=VEGETARIAN), question
    )
    assert callback_data(summary)[0] == BookCb(action=BookAction.CONFIRM, session=seeded.session_id).pack()
    return summary, menu


async def seats_left(sessions, session_id: int) -> int:
    async with sessions() as db:
        return await db.scalar(select(SessionRow.seats_left).where(SessionRow.id == session_id))


# The operator desk's bookkeeping on an order (what it has seen, when it looks again) changes in the background.
_ORDER_COLUMNS = ", ".join(c.name for c in OrderRow.__table__.columns if not c.name.startswith("desk_"))
SNAPSHOT = {
    "orders": f"SELECT {_ORDER_COLUMNS} FROM orders",
    "order_items": "SELECT * FROM order_items",
    "event_sessions": "SELECT * FROM event_sessions",
    "users": "SELECT * FROM users",
    "audit_log": "SELECT * FROM audit_log",
    # what was asked to be sent, not whether the sender has sent it yet (it works in the background)
    "outbox": "SELECT id, kind, chat_id, payload, dedup_key FROM outbox",
}


async def snapshot(sessions) -> dict[str, list[tuple]]:
    """Every row that a booking, a cancellation or a message to someone else would add or change."""
    async with sessions() as db:
        return {
            name: [tuple(r) for r in (await db.execute(text(f"{query} ORDER BY id"))).all()]
            for name, query in SNAPSHOT.items()
        }


async def orders_of(sessions, *user_ids: int) -> list[OrderRow]:
    async with sessions() as db:
        return list(await db.scalars(select(OrderRow).where(OrderRow.user_id.in_(user_ids)).order_by(OrderRow.id)))
