"""The in-memory :class:`domain.offer_ports.OfferRepository` of :mod:`tests.fakes` (its state lives in
``FakeState.offers``, ``offer_deliveries`` and ``offers_opt_out``). It keeps the SQL contracts: the segment counted
and read as the SQL query does (offers on, the bot not blocked, each part given), in id order from the cursor; one
delivery per offer and guest; a copy on every read."""

from __future__ import annotations

import copy
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from domain.model.offers import Offer, OfferStatus, Segment
from domain.model.orders import BookingStatus
from domain.model.users import User

if TYPE_CHECKING:
    from tests.fakes import FakeState

_BOOKED = {BookingStatus.AWAITING_ORGANISER, BookingStatus.CONFIRMED, BookingStatus.ATTENDED, BookingStatus.NO_SHOW}


class _Opened(Protocol):
    def require_open(self) -> FakeState: ...


class FakeOfferRepository:
    def __init__(self, uow: _Opened) -> None:
        self._uow = uow

    @property
    def _state(self) -> FakeState:
        return self._uow.require_open()

    def _matches(self, user: User, segment: Segment, now: datetime) -> bool:
        state = self._state
        if user.blocked_bot or user.id in state.offers_opt_out:
            return False
        hotel = state.hotels.get(user.hotel_id) if user.hotel_id is not None else None
        if segment.region_ids and not (
            user.region_id in segment.region_ids or (hotel is not None and hotel.region_id in segment.region_ids)
        ):
            return False
        if segment.languages and user.language not in segment.languages:
            return False
        if segment.hotel_ids and user.hotel_id not in segment.hotel_ids:
            return False
        booked = [o for o in state.orders.values() if o.user_id == user.id and o.booking in _BOOKED]
        categories = {c.casefold() for c in segment.categories}
        if categories and not any(state.events[o.event_id].category.casefold() in categories for o in booked):
            return False
        since = segment.booked_since(now)
        return since is None or any(o.created_at >= since for o in booked)

    async def add(self, offer: Offer) -> Offer:
        offer.id = max(self._state.offers, default=0) + 1
        self._state.offers[offer.id] = copy.deepcopy(offer)
        return offer

    async def get(self, offer_id: int) -> Offer | None:
        return copy.deepcopy(self._state.offers.get(offer_id))

    async def save(self, offer: Offer) -> None:
        stored = self._state.offers.get(offer.stored_id)
        if stored is not None:
            stored.status, stored.cursor, stored.recipients = offer.status, offer.cursor, offer.recipients

    async def reach(self, segment: Segment, now: datetime) -> int:
        return sum(self._matches(user, segment, now) for user in self._state.users.values())

    async def next_guests(self, offer: Offer, now: datetime, limit: int) -> Sequence[int]:
        delivered = self._state.offer_deliveries
        found = sorted(
            user.id
            for user in self._state.users.values()
            if user.id > offer.cursor
            and (offer.stored_id, user.id) not in delivered
            and self._matches(user, offer.segment, now)
        )
        return found[:limit]

    async def add_deliveries(self, offer_id: int, user_ids: Sequence[int]) -> int:
        new = {(offer_id, user_id) for user_id in user_ids} - self._state.offer_deliveries
        self._state.offer_deliveries |= new
        return len(new)

    async def claim_sending(self, exclude: Collection[int]) -> Offer | None:
        sending = (
            o for _, o in sorted(self._state.offers.items()) if o.status is OfferStatus.SENDING and o.id not in exclude
        )
        return copy.deepcopy(next(sending, None))

    async def for_guest(self, user_id: int, now: datetime, limit: int) -> Sequence[Offer]:
        offers = [
            o
            for offer_id, o in sorted(self._state.offers.items(), reverse=True)
            if (offer_id, user_id) in self._state.offer_deliveries and o.current(now)
        ]
        return copy.deepcopy(offers[:limit])

    async def received(self, offer_id: int, user_id: int) -> bool:
        return (offer_id, user_id) in self._state.offer_deliveries

    async def opted_out(self, user_id: int) -> bool:
        return user_id in self._state.offers_opt_out

    async def set_opted_out(self, user_id: int, opted_out: bool) -> bool:
        if user_id not in self._state.users:
            return False
        if opted_out:
            self._state.offers_opt_out.add(user_id)
        else:
            self._state.offers_opt_out.discard(user_id)
        return True

    async def region_ids(self, codes: Collection[str]) -> dict[str, int]:
        return {r.code: r.id for r in self._state.regions.values() if r.code in codes}

    async def hotel_ids(self, codes: Collection[str]) -> dict[str, int]:
        return {h.code: h.id for h in self._state.hotels.values() if h.code in codes}
