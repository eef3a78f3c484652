"""What the domain needs from storage for offers (domain/model/offers.py), reached as ``uow.offers``;
``bot/storage/offers.py`` implements it, ``tests/fake_offers.py`` fakes it."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Protocol

from domain.model.offers import Offer, Segment


class OfferRepository(Protocol):
    async def add(self, offer: Offer) -> Offer: ...
    async def get(self, offer_id: int) -> Offer | None: ...
    async def save(self, offer: Offer) -> None:
        """Store the delivery's progress (status, cursor, recipients)."""

    async def reach(self, segment: Segment, now: datetime) -> int:
        """How many guests the segment reaches now: matching it, offers on, the bot not blocked."""

    async def next_guests(self, offer: Offer, now: datetime, limit: int) -> Sequence[int]:
        """Up to ``limit`` ids of the guests the offer's segment reaches (as :meth:`reach` counts them) with ids
        above its cursor and no delivery of it yet, in id order."""

    async def add_deliveries(self, offer_id: int, user_ids: Sequence[int]) -> int:
        """Record the offer as delivered to them; how many were new (a guest is never recorded twice)."""

    async def claim_sending(self, exclude: Collection[int]) -> Offer | None:
        """An offer still being delivered whose id is not in ``exclude``, oldest first, locked for the rest of the
        transaction (``FOR UPDATE SKIP LOCKED``: a second process takes another)."""

    async def for_guest(self, user_id: int, now: datetime, limit: int) -> Sequence[Offer]:
        """The offers delivered to the guest that are still current at ``now``, newest first."""

    async def received(self, offer_id: int, user_id: int) -> bool: ...
    async def opted_out(self, user_id: int) -> bool:
        """Whether the guest turned offers off (False for someone the bot does not know)."""

    async def set_opted_out(self, user_id: int, opted_out: bool) -> bool:
        """Turn the guest's offers off (or on again); False if the bot does not know them."""

    async def region_ids(self, codes: Collection[str]) -> dict[str, int]:
        """Region code -> id, for the codes that exist."""

    async def hotel_ids(self, codes: Collection[str]) -> dict[str, int]:
        """Hotel code -> id, for the codes that exist."""
