"""Offers (issue 15): an operator composes one with ``/offer`` and sends it to a segment; the delivery job enqueues it,
a batch of guests per transaction, paced below booking messages; guests list the current ones and turn them off.

- :func:`offer_reach`: the segment the operator described (region and hotel codes) resolved, and how many it reaches.
- :func:`send_offer`: the offer stored (and its discount code created), audited; delivered by :func:`deliver_offers`.
- :func:`deliver_offers`: the job: the next guests of a sending offer recorded and one outbox message each.
- :func:`set_offers`, :func:`current_offers`: a guest's toggle and their Offers screen.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from domain.errors import NotFound
from domain.model.discount_codes import CodeTaken, DiscountCode, normalize_code
from domain.model.messages import AuditEntry, OutboxKind, keyed_message
from domain.model.offers import (
    MAX_DAYS,
    OFFERS_PER_SECOND,
    EmptySegment,
    InvalidSegment,
    InvalidValidity,
    Offer,
    OfferStatus,
    Segment,
    offer_texts,
)
from domain.ports import UnitOfWork
from domain.use_cases.sweep import DEFAULT_BATCH, Swept

CURRENT_OFFERS_SHOWN = 5  # with TEXT_IN_LIST characters each, the Offers screen stays one message


@dataclass(frozen=True, slots=True)
class SegmentSpec:
    """A segment as the operator names it: region and hotel codes, languages, categories, days."""

    region_codes: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    hotel_codes: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    booked_within_days: int | None = None


@dataclass(frozen=True, slots=True)
class NewCode:
    """A discount code created with the offer, valid as long as the offer."""

    code: str
    percent: int | None = None
    amount_minor: int | None = None
    currency: str | None = None
    max_uses: int | None = None


@dataclass(frozen=True, slots=True)
class SendOffer:
    actor: str
    texts: dict[str, str]
    days: int  # current (and its code valid) for this many days from now
    segment: Segment
    event_id: int | None = None
    code: NewCode | None = None


async def offer_reach(uow: UnitOfWork, spec: SegmentSpec, now: datetime) -> tuple[Segment, int]:
    """The segment with its codes resolved, and how many guests it reaches now; :class:`InvalidSegment` (``field``,
    ``value``) for a region or hotel code that does not exist."""
    async with uow.read():
        regions = await uow.offers.region_ids(spec.region_codes)
        hotels = await uow.offers.hotel_ids(spec.hotel_codes)
        for codes, found, name in ((spec.region_codes, regions, "region"), (spec.hotel_codes, hotels, "hotel")):
            missing = [code for code in codes if code not in found]
            if missing:
                raise InvalidSegment(field=name, value=missing[0])
        segment = Segment(
            region_ids=tuple(regions[c] for c in spec.region_codes),
            languages=spec.languages,
            hotel_ids=tuple(hotels[c] for c in spec.hotel_codes),
            categories=spec.categories,
            booked_within_days=spec.booked_within_days,
        )
        return segment, await uow.offers.reach(segment, now)


async def send_offer(uow: UnitOfWork, cmd: SendOffer, now: datetime) -> Offer:
    """Store the offer (sending) and its code, audited. Refused, nothing stored: no English text, a text too long,
    a validity outside 1..MAX_DAYS days, an event that does not exist, a code's terms or text taken, a segment that
    reaches nobody now (:class:`EmptySegment`)."""
    texts = offer_texts(cmd.texts)
    if not 0 < cmd.days <= MAX_DAYS:
        raise InvalidValidity(limit=MAX_DAYS)
    valid_until = now + timedelta(days=cmd.days)
    async with uow:
        if cmd.event_id is not None and await uow.catalog.event(cmd.event_id) is None:
            raise NotFound(event=cmd.event_id)
        reach = await uow.offers.reach(cmd.segment, now)
        if reach == 0:
            raise EmptySegment()
        offer = Offer(
            texts=texts,
            segment=cmd.segment,
            created_at=now,
            valid_until=valid_until,
            created_by=cmd.actor,
            event_id=cmd.event_id,
        )
        await uow.offers.add(offer)
        if cmd.code is not None:
            code = DiscountCode(
                code=normalize_code(cmd.code.code),
                percent=cmd.code.percent,
                amount_minor=cmd.code.amount_minor,
                currency=cmd.code.currency,
                max_uses=cmd.code.max_uses,
                valid_from=now,
                valid_until=valid_until,
                event_id=cmd.event_id,
                offer_id=offer.id,
                created_at=now,
                created_by=cmd.actor,
            )
            if await uow.discount_codes.add(code) is None:
                raise CodeTaken(code_text=code.code)
            offer.code = code.code
        after = {
            "offer_id": offer.id,
            "languages": sorted(texts),
            "event_id": cmd.event_id,
            "code": offer.code,
            "segment": cmd.segment.as_json(),
            "reach": reach,
            "valid_until": valid_until.isoformat(),
        }
        await uow.audit.add(AuditEntry(at=now, actor=cmd.actor, action="offer.sent", after=after))
        await uow.commit()
    return offer


async def deliver_offers(uow: UnitOfWork, now: datetime, limit: int = DEFAULT_BATCH) -> Swept:
    """One pass of the delivery job, one transaction: the oldest offer still sending gets up to ``limit`` more guests
    of its segment recorded, each an outbox message in their language when it is sent, due one after the other at
    :data:`OFFERS_PER_SECOND` (so a large segment leaves Telegram's rate to booking messages); it is *sent* when its
    segment is through. ``done``: the guests enqueued."""
    async with uow:
        offer = await uow.offers.claim_sending(())
        if offer is None:
            return Swept()
        guests = await uow.offers.next_guests(offer, now, limit)
        await uow.offers.add_deliveries(offer.stored_id, guests)
        start = max(now, offer.created_at + timedelta(seconds=offer.recipients / OFFERS_PER_SECOND))
        for n, user_id in enumerate(guests):
            due = start + timedelta(seconds=n / OFFERS_PER_SECOND)
            payload = {"offer_id": offer.stored_id}
            await uow.outbox.add(keyed_message(OutboxKind.OFFER, user_id, payload, due, offer.stored_id, user_id))
        offer.delivered(guests[-1] if guests else offer.cursor, len(guests), done=len(guests) < limit)
        await uow.offers.save(offer)
        if offer.status is OfferStatus.SENT:
            after = {"offer_id": offer.id, "recipients": offer.recipients}
            await uow.audit.add(AuditEntry(at=now, actor="system", action="offer.delivered", after=after))
        await uow.commit()
    return Swept(done=list(guests))


async def set_offers(uow: UnitOfWork, user_id: int, on: bool) -> bool:
    """Turn the guest's offers on or off; False if the bot does not know them (nothing to store)."""
    async with uow:
        changed = await uow.offers.set_opted_out(user_id, not on)
        await uow.commit()
    return changed


async def offers_on(uow: UnitOfWork, user_id: int) -> bool:
    async with uow.read():
        return not await uow.offers.opted_out(user_id)


async def current_offers(uow: UnitOfWork, user_id: int, now: datetime) -> Sequence[Offer]:
    """The offers the guest received that are still current, newest first."""
    async with uow.read():
        return await uow.offers.for_guest(user_id, now, CURRENT_OFFERS_SHOWN)
