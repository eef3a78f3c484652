"""A claimed waitlist offer goes through the usual booking screens (tickets, the organiser's questions, the summary);
these are the few places where such a draft differs from an ordinary one, called from
:mod:`handlers.tourist.booking`. The draft carries ``waitlist`` (the entry) and ``held`` (its seats, held for it and
so not among the session's seats left)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from domain.model.orders import Order
from domain.ports import UnitOfWork
from domain.rules.pricing import MAX_TICKETS_PER_ORDER
from domain.use_cases.booking import PlaceOrder, place_order
from domain.use_cases.waitlist import ClaimOffer, claim_offer
from handlers.tourist.booking_screens import Booking

WAITLIST = "waitlist"  # the draft's key: the waitlist entry whose offer it claims
HELD = "held"


def claim_draft(entry_id: int, seats: int) -> dict[str, Any]:
    """What a draft that claims an offer carries besides an ordinary one."""
    return {WAITLIST: entry_id, HELD: seats}


def seats_free(ctx: Booking, data: dict[str, Any]) -> int:
    """The seats this draft may book: the seats held for its offer, else those left on the session."""
    held = data.get(HELD)
    return held if data.get(WAITLIST) and isinstance(held, int) else ctx.view.session.seats_left


def draft_limit(ctx: Booking, data: dict[str, Any]) -> int:
    """The most tickets this draft may have (:attr:`Booking.limit` for an ordinary one)."""
    return min(seats_free(ctx, data), MAX_TICKETS_PER_ORDER) if data.get(WAITLIST) else ctx.limit


async def place_or_claim(uow: UnitOfWork, command: PlaceOrder, data: dict[str, Any], now: datetime) -> Order:
    """Confirm the draft: claim its offer (:func:`claim_offer`) when it has one, else :func:`place_order`."""
    entry_id = data.get(WAITLIST)
    if not entry_id:
        return await place_order(uow, command, now)
    claim = ClaimOffer(
        user_id=command.user_id,
        entry_id=int(entry_id),
        quantities=command.quantities,
        answers=command.answers,
        payments_enabled=command.payments_enabled,
        request_key=command.request_key,
        user=command.user,
        points=command.points,
        discount_code=command.discount_code,
    )
    return await claim_offer(uow, claim, now)
