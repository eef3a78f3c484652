"""The real bot process (issue 14): a tourist books a walk starting soon (confirmed at once, paid on site: checked in by
its order code), a stranger who opens the check-in link learns only which event it is for, and the organiser checks
the booking in from the link and sees it on the participant list as it stands now."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import insert, select

from bot.storage.tables import OrderRow, SessionRow
from domain.model.checkin import CHECKIN_LINK_PREFIX
from domain.model.orders import BookingStatus, PaymentStatus, format_order_code
from handlers.organiser.callbacks import CheckinCb, ManifestAction, ManifestCb
from handlers.tourist.callbacks import BookAction, BookCb, BrowseCb, EventCb, MenuAction, MenuCb, When
from sandbox.world import World
from tests.e2e.conftest import Database
from tests.e2e.tourist import Tourist
from tests.seed import INSTANT_ORGANISER_CHAT_ID

pytestmark = pytest.mark.asyncio(loop_scope="package")  # with the package's bot process (see conftest)

STARTS_IN = timedelta(minutes=10)  # bookable (the cut-off is 5 minutes) and its participant list already due
LIST_WAIT = 15.0  # s: the participant list job and the outbox run every half second


async def test_a_stranger_learns_nothing_and_the_organiser_checks_the_booking_in(
    tourist_factory: Callable[..., Awaitable[Tourist]], database: Database, world: World
) -> None:
    seeded, sessions = database.seeded, database.sessions
    starts = (datetime.now(UTC) + STARTS_IN).replace(microsecond=0)
    async with sessions() as db, db.begin():
        session_id = (
            await db.execute(
                insert(SessionRow)
                .values(
                    event_id=seeded.instant_event_id, starts_at=starts, capacity=5, seats_left=5, status="scheduled"
                )
                .returning(SessionRow.id)
            )
        ).scalar_one()

    # Anna books the walk: confirmed at once, to pay at the meeting point
    anna = await tourist_factory("Anna", "en")
    await anna.send("/start")
    await anna.press(MenuCb(action=MenuAction.EVENTS))
    await anna.press(BrowseCb(region=seeded.region_id, step="when"))
    await anna.press(BrowseCb(region=seeded.region_id, when=When.UPCOMING, step="category"))
    await anna.press(BrowseCb(region=seeded.region_id, when=When.UPCOMING, category="city", step="list"))
    await anna.press(EventCb(event=seeded.instant_event_id))
    await anna.press(BookCb(action=BookAction.START, session=session_id))
    summary = await anna.press(BookCb(action=BookAction.NEXT, session=session_id))
    await anna.press(BookCb(action=BookAction.CONFIRM, session=session_id), summary)
    async with sessions() as db:
        order = await db.scalar(select(OrderRow).where(OrderRow.user_id == anna.id))
    assert order is not None and order.session_id == session_id
    assert (order.booking, order.payment) == (BookingStatus.CONFIRMED, PaymentStatus.ON_SITE)
    code = format_order_code(order.code)
    link = f"/start {CHECKIN_LINK_PREFIX}{order.code}"  # what the deep link of the QR sends

    # confirmed at once and paid on site: her confirmation is her ticket, with the check-in QR of the order's code
    def qr_tickets() -> list[dict[str, Any]]:
        return [m for m in anna.bot_messages() if m.get("photo") and code in (m.get("caption") or "")]

    [qr_ticket] = await anna.wait(qr_tickets, "the confirmation with the check-in QR")
    assert "Show this QR image at the meeting point" in qr_ticket["caption"]

    # the organiser's participant list of the session goes out (it is due: the session starts soon)
    organiser = Tourist(world, world.user(INSTANT_ORGANISER_CHAT_ID))

    def participant_list() -> dict[str, Any] | None:
        return next(
            (m for m in organiser.bot_messages() if m["text"].startswith("👥") and code in m["text"]),
            None,
        )

    listed = await organiser.wait(participant_list, "the participant list", timeout=LIST_WAIT)
    assert "✅ " + code not in listed["text"]

    # a stranger who opens the link learns only that it is a ticket for the walk
    mallory = await tourist_factory("Mallory", "en")
    seen = (await mallory.send(link))["text"]
    assert "This is a ticket for Old Town walk." in seen
    for personal in ("Anna", code, order.code, "€", "Adult"):
        assert personal not in seen
    assert not mallory.last().get("reply_markup")

    # the organiser opens it: the booking, to pay on site; one tap checks it in
    sent = await world.user_sends(organiser.id, link)

    def ticket() -> dict[str, Any] | None:
        return next(
            (
                m
                for m in organiser.bot_messages()
                if m["message_id"] > sent["message_id"] and f"Order {code}" in m["text"]
            ),
            None,
        )

    shown = await organiser.wait(ticket, "the ticket")
    assert "Anna" in shown["text"] and "To pay on site" in shown["text"] and "Not checked in yet" in shown["text"]
    checked = await organiser.press(CheckinCb(order=order.id), shown)
    assert "Checked in at" in checked["text"] and "1 of 1 bookings" in checked["text"]

    # the participant list as it stands now shows the booking checked in
    live = await organiser.press(ManifestCb(action=ManifestAction.REFRESH, session=session_id), listed)
    assert "Checked in: 1 of 1 bookings" in live["text"] and "✅ " + code in live["text"]
    assert mallory.callback_answers() == []
    assert len(qr_tickets()) == 1  # sent once
